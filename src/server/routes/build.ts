// POST /build and POST /build/prune. The body (the context tar) goes to the
// build job as a stream, never read here; Dockerfile errors found before the
// job calls ready() are a 400 like dockerd's, later ones are in-band.
import type { Context } from "hono";
import type { App, ApiDeps } from "../app.ts";
import { BadRequestError } from "../errors.ts";
import { boolQuery, filtersQuery } from "../request.ts";
import { streamResponse } from "../stream.ts";
import { BuildJob, BuildPruneJob } from "../../engine/build/jobs.ts";
import { defaultBuildOptions, type BuildOptions } from "../../engine/build/options.ts";
import { goJson, type BuildMessage } from "../../engine/build/output.ts";
import { BuildError } from "../../engine/build/errors.ts";
import type { Credentials } from "../../engine/distribution/credentials.ts";

function jsonQuery<T>(c: Context, name: string, dflt: T): T {
  const raw = c.req.query(name);
  if (!raw) return dflt;
  try {
    return JSON.parse(raw) as T;
  } catch {
    throw new BadRequestError(`invalid ${name}: ${raw}`);
  }
}

function base64Json<T>(v: string | undefined, what: string): T | null {
  if (!v) return null;
  try {
    return JSON.parse(Buffer.from(v, "base64").toString("utf8")) as T;
  } catch {
    throw new BadRequestError(`invalid ${what} header`);
  }
}

/** X-Registry-Config: base64 JSON {host: {username, password, identitytoken, registrytoken}}. */
function registryConfig(h: string | undefined): Record<string, Credentials> {
  const raw = base64Json<Record<string, Record<string, string>>>(h, "X-Registry-Config") ?? {};
  const out: Record<string, Credentials> = {};
  for (const [host, a] of Object.entries(raw)) {
    out[host] = { username: a.username, password: a.password, identityToken: a.identitytoken, registryToken: a.registrytoken };
  }
  return out;
}

export function buildOptions(c: Context): BuildOptions {
  const o = defaultBuildOptions();
  const secrets = base64Json<Record<string, string>>(c.req.header("X-Build-Secrets"), "X-Build-Secrets") ?? {};
  return {
    ...o,
    dockerfile: c.req.query("dockerfile") || o.dockerfile,
    tags: (c.req.queries("t") ?? []).filter(Boolean),
    buildArgs: jsonQuery(c, "buildargs", {}),
    target: c.req.query("target") || undefined,
    noCache: boolQuery(c, "nocache"),
    pull: boolQuery(c, "pull"),
    quiet: boolQuery(c, "q"),
    rm: boolQuery(c, "rm", true),
    forceRm: boolQuery(c, "forcerm"),
    labels: jsonQuery(c, "labels", {}),
    networkMode: c.req.query("networkmode") || o.networkMode,
    extraHosts: (c.req.queries("extrahosts") ?? []).flatMap((h) => h.split(",")).filter(Boolean),
    cacheFrom: jsonQuery<string[]>(c, "cachefrom", []),
    platform: c.req.query("platform") || undefined,
    secrets: Object.fromEntries(Object.entries(secrets).map(([k, v]) => [k, new Uint8Array(Buffer.from(v, "base64"))])),
    registryAuth: registryConfig(c.req.header("X-Registry-Config")),
    limits: limits(c),
    live: c.req.header("X-Ctr-Build-Progress") === "live",
  };
}

/** The build's resource limits, as HostConfig fields of its RUN containers. */
function limits(c: Context): Record<string, number | string> {
  const out: Record<string, number | string> = {};
  const num: [string, string][] = [["memory", "Memory"], ["memswap", "MemorySwap"], ["cpushares", "CpuShares"], ["cpuquota", "CpuQuota"], ["cpuperiod", "CpuPeriod"], ["shmsize", "ShmSize"]];
  for (const [q, field] of num) {
    const v = c.req.query(q);
    if (v === undefined || v === "" || v === "0") continue;
    const n = Number(v);
    if (!Number.isFinite(n)) throw new BadRequestError(`invalid ${q}: ${v}`);
    out[field] = n;
  }
  const cpuset = c.req.query("cpusetcpus");
  if (cpuset) out.CpusetCpus = cpuset;
  return out;
}

/** dockerd's in-band failure: a failing RUN carries its exit code. */
export function errorLine(e: unknown): BuildMessage {
  const message = e instanceof Error ? e.message : String(e);
  const code = e instanceof BuildError ? e.code : undefined;
  return { errorDetail: code !== undefined ? { code, message } : { message }, error: message };
}

export function buildRoutes(app: App, { engine }: ApiDeps): void {
  app.post("/build", async (c) => {
    const body = c.req.raw.body as ReadableStream<Uint8Array> | null;
    const context = body ?? new ReadableStream<Uint8Array>({ start: (ctl) => ctl.close() });
    const { ctx, result } = await engine.start(BuildJob, { context, options: buildOptions(c) }, { signal: c.req.raw.signal });
    return streamResponse(c, "application/json", async (w) => {
      const line = (m: unknown) => w.bytes(new TextEncoder().encode(goJson(m) + "\r\n"));
      const following = ctx.stdout.follow(line);
      try {
        await result;
      } catch (e) {
        await following;
        line(errorLine(e));
        return;
      }
      await following;
    });
  });
  app.post("/build/prune", async (c) => c.json(await engine.run(BuildPruneJob, { all: boolQuery(c, "all"), filters: filtersQuery(c) })));
}
