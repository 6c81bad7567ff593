// `ctr build` and `ctr builder prune`, with the docker CLI's flags. The
// context goes up as a streamed tar; the answer is the daemon's JSON lines.
import type { Cli } from "./parser.ts";
import { readFileSync } from "node:fs";
import { CliExit, list, type CliContext } from "./context.ts";
import { isStdio } from "./argv.ts";
import { readJsonLines, type ProgressMessage } from "./pull-progress.ts";
import { contextTar } from "./build-context.ts";
import { plainView, ttyView } from "./build-view.ts";
import { formatBytes } from "./render.ts";

interface BuildFlags {
  tag?: unknown;
  file?: string;
  buildArg?: unknown;
  target?: string;
  cache?: boolean;
  pull?: boolean;
  quiet?: boolean;
  label?: unknown;
  network?: string;
  secret?: unknown;
  progress?: string;
  cacheFrom?: unknown;
  platform?: string;
  rm?: boolean;
  forceRm?: boolean;
  addHost?: unknown;
}

/** `--build-arg K=V`, or `K` alone: the value from this environment (skipped when unset), as docker does. */
function buildArgs(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const a of list(v)) {
    const eq = a.indexOf("=");
    if (eq > 0) out[a.slice(0, eq)] = a.slice(eq + 1);
    else if (process.env[a] !== undefined) out[a] = process.env[a]!;
  }
  return out;
}

function labels(v: unknown): Record<string, string> {
  return Object.fromEntries(list(v).map((l) => [l.split("=")[0]!, l.includes("=") ? l.slice(l.indexOf("=") + 1) : ""]));
}

/** `--secret id=x,src=file` (or env=VAR): read here, sent to the daemon in a header, never in the context. */
function secrets(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const s of list(v)) {
    const kv = Object.fromEntries(s.split(",").map((p) => [p.split("=")[0]!, p.slice(p.indexOf("=") + 1)]));
    const id = kv.id;
    if (!id) throw new CliExit(1, `invalid secret ${s}: id is required`);
    const src = kv.src ?? kv.source;
    const env = kv.env ?? (!src ? id : undefined);
    let data: Buffer;
    if (src) data = readFileSync(src);
    else if (env && process.env[env] !== undefined) data = Buffer.from(process.env[env]!);
    else throw new CliExit(1, `invalid secret ${s}: no src and no environment variable ${env}`);
    out[id] = data.toString("base64");
  }
  return out;
}

export function registerBuild(cli: Cli, ctx: CliContext): void {
  cli
    .command("build <path>", "Build an image from a Dockerfile (PATH is the context; - reads a Dockerfile from stdin)")
    .option("-t, --tag <name>", "Name and optionally a tag (name:tag) (repeatable)")
    .option("-f, --file <file>", "Name of the Dockerfile (default: PATH/Dockerfile; - for stdin)")
    .option("--build-arg <kv>", "Set build-time variables (repeatable)")
    .option("--target <stage>", "Set the target build stage to build")
    .option("--no-cache", "Do not use cache when building the image")
    .option("--pull", "Always attempt to pull a newer version of the image")
    .option("-q, --quiet", "Suppress the build output and print image ID on success")
    .option("--label <kv>", "Set metadata for an image (repeatable)")
    .option("--network <mode>", "Networking mode for the RUN instructions (bridge, host, none)")
    .option("--add-host <host:ip>", "Add a custom host-to-IP mapping for RUN (repeatable)")
    .option("--secret <spec>", "Secret to expose to the build: id=mysecret[,src=/local/secret] (repeatable)")
    .option("--progress <mode>", "Type of progress output (auto, plain, tty)", { default: "auto" })
    .option("--cache-from <image>", "Images to consider as cache sources (repeatable)")
    .option("--platform <p>", "Set platform if server is multi-platform capable")
    .option("--rm", "Remove intermediate containers after a successful build", { default: true })
    .option("--force-rm", "Always remove intermediate containers")
    .action(async (path: string, f: BuildFlags) => {
      const stdinText = () => readFileSync("/dev/stdin", "utf8");
      const fromStdin = isStdio(path);
      const tar = fromStdin ? null : contextTar(path, f.file !== undefined && isStdio(f.file) ? { text: stdinText() } : { path: f.file });
      const client = await ctx.client();
      const mode = f.progress === "auto" ? (process.stdout.isTTY ? "tty" : "plain") : f.progress;
      if (mode !== "plain" && mode !== "tty") throw new CliExit(1, `invalid progress mode ${f.progress}: use auto, plain or tty`);
      const headers: Record<string, string> = {};
      const sec = secrets(f.secret);
      // The live view wants each stage's lines as they happen, not in Dockerfile order.
      if (mode === "tty" && !f.quiet) headers["X-Ctr-Build-Progress"] = "live";
      if (Object.keys(sec).length) headers["X-Build-Secrets"] = Buffer.from(JSON.stringify(sec)).toString("base64");
      const body = tar ? await tar.small() : new Blob([stdinText()]);
      let failure: ProgressMessage | null = null;
      let id = "";
      const view = f.quiet ? null : mode === "tty" ? ttyView(process.stdout) : plainView(process.stdout);
      try {
        const res = await client.request("POST", "/build", {
          query: {
            t: list(f.tag),
            dockerfile: tar?.dockerfile,
            buildargs: JSON.stringify(buildArgs(f.buildArg)),
            target: f.target,
            nocache: f.cache === false ? 1 : undefined,
            pull: f.pull ? 1 : undefined,
            q: f.quiet ? 1 : undefined,
            labels: JSON.stringify(labels(f.label)),
            networkmode: f.network,
            extrahosts: list(f.addHost).length ? list(f.addHost).join(",") : undefined,
            cachefrom: list(f.cacheFrom).length ? JSON.stringify(list(f.cacheFrom)) : undefined,
            platform: f.platform,
            rm: f.rm === false ? 0 : 1,
            forcerm: f.forceRm ? 1 : undefined,
          },
          raw: { data: body, contentType: "application/x-tar" },
          headers,
        });
        await readJsonLines(res.body!, (m) => {
          if (m.errorDetail || m.error) failure = m;
          else if (f.quiet && m.stream) id = m.stream.trim();
          else view?.message(m);
        });
      } finally {
        view?.end();
        tar?.cleanup();
      }
      if (failure) {
        const fm = failure as ProgressMessage & { errorDetail?: { code?: number; message: string } };
        // As the docker CLI: the daemon's message alone, and a failing RUN's code as the exit status.
        console.error(fm.errorDetail?.message ?? fm.error ?? "build failed");
        throw new CliExit(fm.errorDetail?.code ?? 1);
      }
      if (f.quiet) console.log(id);
    });

  cli
    .command("builder-prune", "Remove build cache")
    .option("-a, --all", "Remove all unused build cache, not just dangling ones")
    .option("-f, --force", "Do not prompt for confirmation")
    .action(async (f: { all?: boolean }) => {
      const client = await ctx.client();
      const r = await client.json<{ CachesDeleted: string[] | null; SpaceReclaimed: number }>("POST", "/build/prune", { query: { all: f.all ? 1 : undefined } });
      if (r.CachesDeleted?.length) console.log(`Deleted build cache objects:\n${r.CachesDeleted.join("\n")}\n`);
      console.log(`Total reclaimed space: ${formatBytes(r.SpaceReclaimed)}`);
    });
}
