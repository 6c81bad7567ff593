// A build, start to end: the context to disk, the Dockerfile parsed (errors
// here are the API's 400, before the stream starts), the stages planned as a
// graph and run (each waits only for the stages it names), the result tagged,
// and the scratch dir removed whatever happens.
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import type { JobContext } from "../job.ts";
import type { ByteSource } from "../../store/tar/byte-source.ts";
import { familiarize } from "../distribution/reference.ts";
import { tagReference } from "../images/new-image.ts";
import { argValue, parseArg, platformArgs } from "./args.ts";
import { applyDockerignore, readDockerfile, receiveContext } from "./context.ts";
import { BuildCancelledError, BuildError } from "./errors.ts";
import type { StepImage } from "./image.ts";
import type { BuildOptions } from "./options.ts";
import { BuildOutput, short, type BuildMessage } from "./output.ts";
import { parseDockerfile, type Instruction } from "./parse.ts";
import type { BuildDeps, Session } from "./session.ts";
import { plan } from "./stages.ts";
import { StageRunner } from "./steps.ts";

export interface BuildRequest {
  context: ByteSource;
  options: BuildOptions;
}

export interface BuildResult {
  id: string;
  tags: string[];
}

/** The build job: call ctx.ready() once the Dockerfile parsed, so parse errors are a 400. */
export async function build(d: BuildDeps, ctx: JobContext, req: BuildRequest, emit: (m: BuildMessage) => void): Promise<BuildResult> {
  const o = req.options;
  const scratch = join(d.tmpDir, `build-${randomBytes(8).toString("hex")}`);
  mkdirSync(join(scratch, "context"), { recursive: true, mode: 0o700 });
  try {
    ctx.setProgress("receiving context");
    const context = await receiveContext(req.context, join(scratch, "context"), ctx.signal);
    const text = readDockerfile(context, o.dockerfile);
    applyDockerignore(context, o.dockerfile);
    const df = parseDockerfile(text);
    const globalArgs = new Map<string, string | undefined>();
    const auto = platformArgs(o.platform);
    for (const ins of df.globalArgs) {
      const vars = new Map([...auto, ...([...globalArgs].filter(([, v]) => v !== undefined) as [string, string][])]);
      for (const a of parseArg(ins, vars, df.escape)) globalArgs.set(a.name, argValue(a, o.buildArgs, globalArgs, new Map()));
    }
    // A global ARG is declared: a build arg for it is consumed (no warning), as dockerd says.
    const usedArgs = new Set(globalArgs.keys());
    const globalVars = new Map([...auto, ...([...globalArgs].filter(([, v]) => v !== undefined) as [string, string][])]);
    const { target, order, deps } = plan(df, o.target, globalVars);
    const extra = new Map<number, Instruction[]>();
    if (Object.keys(o.labels).length) extra.set(target.index, [labelInstruction(o.labels)]);
    const firstStep = new Map<number, number>();
    let total = 0;
    for (const i of order) {
      firstStep.set(i, total + 1);
      total += 1 + df.stages[i]!.instructions.length + (extra.get(i)?.length ?? 0);
    }
    ctx.ready();
    const output = new BuildOutput(emit, order, o.quiet);
    output.live = o.live;
    const abort = new AbortController();
    const onAbort = () => abort.abort();
    ctx.signal.addEventListener("abort", onAbort, { once: true });
    const s: Session = {
      deps: d,
      opts: o,
      df,
      ctx: context,
      scratch,
      signal: abort.signal,
      output,
      results: new Map(),
      globalArgs,
      usedArgs,
      firstStep,
      totalSteps: total,
      extra,
      progress: (t) => ctx.setProgress(t),
      cacheFromIds: cacheFromIds(d, o.cacheFrom),
    };
    try {
      // Each stage starts when the stages it names are done; independent ones run at once.
      for (const i of order) {
        const stage = df.stages[i]!;
        const p = (async (): Promise<StepImage> => {
          await Promise.all((deps.get(i) ?? []).map((j) => s.results.get(j)));
          const r = await new StageRunner(s, stage, output.stage(i)).run();
          output.close(i);
          return r;
        })();
        p.catch(() => abort.abort());
        s.results.set(i, p);
      }
      const results = await settleAll(order.map((i) => s.results.get(i)!));
      const final = results.at(-1) ?? (await s.results.get(target.index)!);
      if (!final.record) throw new BuildError("No image was generated. Is your Dockerfile empty?");
      warnUnusedArgs(o, s.usedArgs, (m) => output.final(m));
      const tags = o.tags.map((t) => {
        d.images.setRef(tagReference(t), final.record!.id, "tag");
        return familiarize(tagReference(t));
      });
      if (o.quiet) emit({ stream: `${final.record.id}\n` });
      else {
        output.final({ stream: `Successfully built ${short(final.record.id)}\n` });
        for (const t of tags) output.final({ stream: `Successfully tagged ${t}\n` });
      }
      return { id: final.record.id, tags };
    } catch (e) {
      output.flushAll();
      if (ctx.signal.aborted) throw new BuildCancelledError();
      throw e;
    } finally {
      ctx.signal.removeEventListener("abort", onAbort);
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** Waits for every stage; the first failure (in Dockerfile order) is the build's. */
async function settleAll(ps: Promise<StepImage>[]): Promise<StepImage[]> {
  const rs = await Promise.allSettled(ps);
  const failed = rs.find((r) => r.status === "rejected");
  if (failed) throw (failed as PromiseRejectedResult).reason;
  return rs.map((r) => (r as PromiseFulfilledResult<StepImage>).value);
}

/** The `labels` option is one more LABEL step on the target stage, as dockerd adds it. */
function labelInstruction(labels: Record<string, string>): Instruction {
  const args = Object.keys(labels)
    .sort()
    .map((k) => `${JSON.stringify(k)}=${JSON.stringify(labels[k])}`)
    .join(" ");
  return { keyword: "LABEL", args, flags: [], heredocs: [], line: 0, original: `LABEL ${args}`, raw: args };
}

function warnUnusedArgs(o: BuildOptions, used: Set<string>, out: (m: BuildMessage) => void): void {
  const PROXY = new Set(["HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY", "ftp_proxy", "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"]);
  const unused = Object.keys(o.buildArgs).filter((k) => !used.has(k) && !PROXY.has(k)).sort();
  if (unused.length) out({ stream: `[Warning] One or more build-args [${unused.join(" ")}] were not consumed\n` });
}

/** Every image the --cache-from images descend from (their parent chains in the graph). */
function cacheFromIds(d: BuildDeps, refs: string[]): Set<string> {
  const out = new Set<string>();
  for (const r of refs) {
    let img = d.findImage(r);
    while (img && !out.has(img.id)) {
      out.add(img.id);
      img = img.parent ? d.images.get(img.parent) : null;
    }
  }
  return out;
}
