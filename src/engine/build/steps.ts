// One stage of a build, step by step: FROM resolves the base (a stage, an
// image, pulled when missing, or scratch), then each instruction becomes one
// image of the graph with one history entry, reused from the cache when its
// key matches. RUN runs a container; COPY/ADD/WORKDIR write into a scratch rw
// layer; the rest change only the config.
import { lstatSync, mkdtempSync, writeFileSync } from "node:fs";
import { join, posix } from "node:path";
import { InvalidParameterError } from "../errors.ts";
import { secureJoin } from "../execdriver/rootfs.ts";
import { ingestLayerTar } from "../images/layer-ingest.ts";
import { parseNormalized } from "../distribution/reference.ts";
import { lstatOrNull } from "../../store/tar/safe-path.ts";
import { argValue, parseArg, platformArgs, PROXY_ARGS } from "./args.ts";
import { cleanSource, expandSource } from "./context.ts";
import { copyInto, mkdirInside, resolveOwner, type CopySource } from "./copy.ts";
import { BuildError } from "./errors.ts";
import { hashSource, sha256, sourcesLabel } from "./hash.ts";
import { commitStep, runConfigOf, stepImageOf, type RunConfig, type StepImage } from "./image.ts";
import { applyMeta, commandOf, workdirOf } from "./instructions.ts";
import { dropMountpoints, RUNTIME_MOUNTPOINTS } from "./mountpoints.ts";
import { containerMounts, mountKey, parseMount } from "./mounts.ts";
import type { StageLog } from "./output.ts";
import { checkFlags, flagValue, flagValues, jsonForm, parseDockerfile, type Instruction, type Stage } from "./parse.ts";
import { openImageView, withWritableLayer } from "./rootfs.ts";
import { runContainer } from "./run.ts";
import type { Session } from "./session.ts";
import { download, expandHeredoc } from "./sources.ts";
import { stageByName } from "./stages.ts";
import { expandWord, expandWords } from "./words.ts";
import { DEFAULT_PATH_ENV } from "../default-path.ts";

const DEFAULT_SHELL = ["/bin/sh", "-c"];

interface State {
  image: StepImage;
  run: RunConfig;
  args: Map<string, string | undefined>;
  cmdSet: boolean;
}

export class StageRunner {
  private step: number;
  private readonly auto = platformArgs();

  constructor(
    private readonly s: Session,
    private readonly stage: Stage,
    private readonly log: StageLog,
  ) {
    this.step = s.firstStep.get(stage.index)!;
  }

  async run(): Promise<StepImage> {
    const { stage, log } = this;
    this.announce(stage.from);
    let st = await this.from();
    const triggers = st.image.config ? (runConfigOf(st.image.config).OnBuild ?? []) : [];
    if (triggers.length) {
      log.text(`# Executing ${triggers.length} build trigger${triggers.length > 1 ? "s" : ""}\n`);
      for (const t of triggers) {
        const parsed = parseDockerfile(`FROM scratch\n${t}\n`).stages[0]!.instructions[0]!;
        st = await this.dispatch(st, parsed);
      }
    }
    st.run = { ...st.run, OnBuild: null };
    for (const ins of [...stage.instructions, ...(this.s.extra.get(stage.index) ?? [])]) {
      if (this.s.signal.aborted) throw new BuildError("build cancelled");
      this.announce(ins);
      st = await this.dispatch(st, ins);
    }
    if (st.image.record) log.aux(st.image.record.id);
    return st.image;
  }

  private announce(ins: Instruction): void {
    this.s.progress(`step ${this.step}/${this.s.totalSteps}: ${ins.original}`);
    this.log.step(this.step++, this.s.totalSteps, ins.original);
  }

  // ---- FROM ------------------------------------------------------------

  private async from(): Promise<State> {
    const { stage, s } = this;
    const flags = stage.from.flags;
    for (const f of flags) if (f.name !== "platform") throw new InvalidParameterError(`Dockerfile parse error line ${stage.from.line}: Unknown flag: ${f.name}`);
    const globals = new Map([...this.auto, ...[...s.globalArgs].filter(([, v]) => v !== undefined) as [string, string][]]);
    const base = expandWord(stage.base, globals, s.df.escape);
    if (!base) throw new InvalidParameterError(`base name (${stage.base}) should not be blank`);
    let image: StepImage;
    const prev = stageByName(s.df, base, stage.index);
    if (prev) {
      image = await s.results.get(prev.index)!;
      if (image.record) this.log.result(image.record.id);
    } else if (base.toLowerCase() === "scratch") {
      image = { record: null, config: null };
    } else {
      const platform = stage.from.flags.find((f) => f.name === "platform")?.value;
      image = stepImageOf(await this.baseImage(base, platform ? expandWord(platform, globals, s.df.escape) : s.opts.platform));
      this.log.result(image.record!.id);
    }
    const run = runConfigOf(image.config);
    if (!run.Env.some((e) => e.startsWith("PATH="))) run.Env = [...run.Env, DEFAULT_PATH_ENV];
    return { image, run, args: new Map(), cmdSet: false };
  }

  private async baseImage(ref: string, platform?: string): Promise<import("../../store/image-store.ts").ImageRecord> {
    const { s } = this;
    const local = s.deps.findImage(ref);
    if (local && !s.opts.pull) return local;
    let host = "docker.io";
    try {
      host = parseNormalized(ref).domain;
    } catch {
      if (local) return local;
      throw new InvalidParameterError(`invalid reference format: ${ref}`);
    }
    const auth = s.opts.registryAuth[host] ?? s.opts.registryAuth[`https://${host}`] ?? (host === "docker.io" ? s.opts.registryAuth["https://index.docker.io/v1/"] : undefined) ?? null;
    try {
      return await s.deps.pull(ref, auth, (m) => this.log.message(m), platform);
    } catch (e) {
      if (local) return local; // --pull with the registry away: Docker keeps the local image
      throw e;
    }
  }

  // ---- dispatch --------------------------------------------------------

  private vars(st: State): Map<string, string> {
    const v = new Map<string, string>();
    for (const [k, val] of st.args) if (val !== undefined) v.set(k, val);
    for (const e of st.run.Env) {
      const i = e.indexOf("=");
      v.set(i < 0 ? e : e.slice(0, i), i < 0 ? "" : e.slice(i + 1));
    }
    return v;
  }

  private shell(st: State): string[] {
    return st.run.Shell ?? DEFAULT_SHELL;
  }

  /** Build args in effect for RUN: declared, with a value, not shadowed by ENV ("k=v", sorted). */
  private argsInEffect(st: State): string[] {
    const env = new Set(st.run.Env.map((e) => e.split("=")[0]!));
    return [...st.args]
      .filter(([k, v]) => v !== undefined && !env.has(k))
      .map(([k, v]) => `${k}=${v}`)
      .sort();
  }

  private async dispatch(st: State, ins: Instruction): Promise<State> {
    switch (ins.keyword) {
      case "ARG":
        return this.arg(st, ins);
      case "RUN":
        return this.runStep(st, ins);
      case "COPY":
      case "ADD":
        return this.copyStep(st, ins);
      case "WORKDIR":
        return this.workdir(st, ins);
      case "FROM":
        throw new InvalidParameterError("FROM is not allowed here");
      default:
        return this.meta(st, ins);
    }
  }

  private nop(st: State, text: string, spaces = 2): string {
    return `${this.shell(st).join(" ")} #(nop)${" ".repeat(spaces)}${text}`;
  }

  /** The cache lookup around a step: a hit names an image made before; a miss makes one and records it. */
  private async cached(st: State, parts: unknown[], description: string, make: () => Promise<StepImage>): Promise<StepImage> {
    const { s } = this;
    const key = sha256(JSON.stringify([st.image.record?.id ?? "scratch", ...parts]));
    if (!s.opts.noCache) {
      const hit = s.deps.cache.get(key);
      const img = hit ? s.deps.images.get(hit.imageId) : null;
      if (img && img.parent === (st.image.record?.id ?? null)) {
        s.deps.cache.touch(key);
        this.log.cached(img.id);
        return stepImageOf(img);
      }
      const fromSource = this.cacheFromHit(st, description);
      if (fromSource) {
        this.log.cached(fromSource.id);
        return stepImageOf(fromSource);
      }
    }
    const made = await make();
    const rec = made.record!;
    s.deps.cache.put({ key, imageId: rec.id, parent: st.image.record?.id ?? null, kind: "regular", description, size: rec.size - (st.image.record?.size ?? 0) });
    this.log.result(rec.id);
    return made;
  }

  /** --cache-from: an image those images descend from whose parent is ours and whose last history entry is this step. */
  private cacheFromHit(st: State, createdBy: string) {
    if (!this.s.cacheFromIds.size) return null;
    const parent = st.image.record?.id ?? null;
    for (const child of this.s.deps.images.children(parent ?? "")) {
      if (!this.s.cacheFromIds.has(child)) continue;
      const img = this.s.deps.images.get(child);
      const cfg = img ? (JSON.parse(img.config) as { history?: { created_by?: string }[] }) : null;
      if (img && cfg?.history?.at(-1)?.created_by === createdBy) return img;
    }
    return null;
  }

  private commit(st: State, run: RunConfig, createdBy: string, layer: Awaited<ReturnType<typeof ingestLayerTar>> | null, author?: string): StepImage {
    return commitStep(this.s.deps, { parent: st.image, run, createdBy, layer, author });
  }

  private async meta(st: State, ins: Instruction): Promise<State> {
    const r = applyMeta(ins, st.run, { vars: this.vars(st), escape: this.s.df.escape, shell: this.shell(st) });
    let run = r.run;
    // ENTRYPOINT resets a Cmd this stage did not set (Docker's dispatchEntrypoint).
    if (ins.keyword === "ENTRYPOINT" && !st.cmdSet) run = { ...run, Cmd: null };
    // dockerd writes SHELL's own entry with the new shell already.
    const createdBy = this.nop(ins.keyword === "SHELL" ? { ...st, run } : st, r.comment);
    const image = await this.cached(st, [createdBy, run, r.author ?? ""], createdBy, async () => this.commit(st, run, createdBy, null, r.author));
    return { ...st, image, run: runConfigOf(image.config), cmdSet: st.cmdSet || !!r.cmdSet };
  }

  private async arg(st: State, ins: Instruction): Promise<State> {
    checkFlags(ins, []);
    const decls = parseArg(ins, this.vars(st), this.s.df.escape);
    const args = new Map(st.args);
    for (const d of decls) {
      args.set(d.name, argValue(d, this.s.opts.buildArgs, this.s.globalArgs, this.auto));
      this.s.usedArgs.add(d.name);
    }
    const text = `ARG ${decls.map((d) => (d.default !== undefined ? `${d.name}=${d.default}` : d.name)).join(" ")}`;
    const createdBy = this.nop(st, text);
    const next = { ...st, args };
    // The values in effect are part of the key: a different --build-arg is a different step.
    // Like dockerd, the values are not in the key: every later step that uses one says it (ENV text, RUN's |N prefix).
    const image = await this.cached(st, [createdBy, st.run], createdBy, async () => this.commit(st, st.run, createdBy, null));
    return { ...next, image, run: runConfigOf(image.config) };
  }

  private async workdir(st: State, ins: Instruction): Promise<State> {
    checkFlags(ins, []);
    const dir = workdirOf(ins, st.run, this.vars(st), this.s.df.escape);
    const run = { ...st.run, WorkingDir: dir };
    const createdBy = this.nop(st, `WORKDIR ${dir}`, 1);
    const image = await this.cached(st, [createdBy, run], createdBy, async () => {
      // dockerd creates the directory (0755, root) and commits the step as a layer, empty if it existed.
      const layer = await withWritableLayer(this.s.deps, st.image.record?.topLayer ?? null, async (rootfs) => mkdirInside(rootfs, dir));
      return this.commit(st, run, createdBy, layer);
    });
    return { ...st, image, run: runConfigOf(image.config) };
  }

  // ---- RUN -------------------------------------------------------------

  private runArgv(st: State, ins: Instruction): { argv: string[]; json: boolean } {
    if (!ins.heredocs.length) return commandOf(ins, this.shell(st));
    const first = ins.args.trim();
    const only = /^<<-?["']?([A-Za-z_][A-Za-z0-9_]*)["']?$/.exec(first);
    // `RUN <<EOF` alone: the body is the script. Otherwise the shell reads the heredocs itself.
    if (only && ins.heredocs.length === 1) return { argv: [...this.shell(st), ins.heredocs[0]!.content], json: false };
    return { argv: [...this.shell(st), ins.raw], json: false };
  }

  private async runStep(st: State, ins: Instruction): Promise<State> {
    const { s } = this;
    checkFlags(ins, ["mount", "network", "security"]);
    const flagNetwork = flagValue(ins, "network");
    // RUN --network takes BuildKit's three values; the build's networkmode may also name a user network.
    if (flagNetwork !== undefined && !["default", "none", "host"].includes(flagNetwork)) throw new InvalidParameterError(`unsupported network mode: ${flagNetwork}`);
    const network = flagNetwork ?? s.opts.networkMode;
    const security = flagValue(ins, "security");
    if (security && security !== "sandbox") throw new InvalidParameterError(`security mode ${security} is not allowed`);
    const mounts = flagValues(ins, "mount").map((m) => parseMount(m, st.run.WorkingDir));
    const { argv } = this.runArgv(st, ins);
    const args = this.argsInEffect(st);
    const saved = args.length ? [`|${args.length}`, ...args, ...argv] : argv;
    const createdBy = saved.join(" ");
    const proxies = PROXY_ARGS.filter((k) => typeof s.opts.buildArgs[k] === "string").map((k) => `${k}=${s.opts.buildArgs[k]}`);
    const keyParts = [createdBy, st.run, network === "default" ? "bridge" : network, mounts.map(mountKey)];
    const image = await this.cached(st, keyParts, createdBy, async () => {
      const views: { release: () => Promise<void> }[] = [];
      try {
        const specs = await containerMounts(mounts, {
          scratch: s.scratch,
          cacheDir: s.deps.cacheMountsDir,
          cache: s.deps.cache,
          secrets: s.opts.secrets,
          sourceRoot: async (from) => {
            if (!from) return s.ctx.root;
            const img = await this.sourceImage(from);
            const v = await openImageView(s.deps, img.record?.topLayer ?? null);
            views.push(v);
            return v.dir;
          },
        });
        const id = await runContainer(s.deps.containers, {
          imageId: this.ensureRecord(st).id,
          argv,
          env: [...st.run.Env, ...args, ...proxies],
          user: st.run.User,
          workdir: st.run.WorkingDir,
          network: network === "default" ? "bridge" : network,
          mounts: specs,
          hostConfig: { ...s.opts.limits, ...(s.opts.extraHosts.length ? { ExtraHosts: s.opts.extraHosts } : {}) },
          display: argv.join(" "),
          signal: s.signal,
          log: this.log,
        }).catch(async (e) => {
          if (e instanceof BuildError && e.containerId && (s.opts.forceRm)) await s.deps.containers.remove(e.containerId, { force: true, volumes: true }).catch(() => {});
          throw e;
        });
        try {
          await dropMountpoints(s.deps.layers, id, [...RUNTIME_MOUNTPOINTS, ...specs.map((m) => m.Target)]);
          const layer = await ingestLayerTar(s.deps, s.deps.layers.diffTar(id), st.image.record?.topLayer ?? null);
          return this.commit(st, st.run, createdBy, layer);
        } finally {
          if (s.opts.rm || s.opts.forceRm) {
            this.log.removing(id);
            await s.deps.containers.remove(id, { force: true, volumes: true });
          }
        }
      } finally {
        for (const v of views) await v.release();
      }
    });
    return { ...st, image, run: runConfigOf(image.config) };
  }

  /** RUN needs an image to make a container of; a scratch stage with no step yet gets an empty one. */
  private ensureRecord(st: State) {
    if (st.image.record) return st.image.record;
    const img = commitStep(this.s.deps, { parent: st.image, run: st.run, createdBy: "", layer: null, noHistory: true });
    st.image = img;
    return img.record!;
  }

  // ---- COPY / ADD ------------------------------------------------------

  private async sourceImage(from: string): Promise<StepImage> {
    const prev = stageByName(this.s.df, from, this.stage.index);
    if (prev) {
      const r = this.s.results.get(prev.index);
      if (!r) throw new InvalidParameterError(`stage ${from} is not part of this build`);
      return r;
    }
    if (/^\d+$/.test(from)) throw new InvalidParameterError(`invalid from flag value ${from}: index out of bounds`);
    try {
      return stepImageOf(await this.baseImage(from));
    } catch (e) {
      // dockerd names the flag in the error of the pull it tried.
      if (e instanceof Error) e.message = `invalid from flag value ${from}: ${e.message}`;
      throw e;
    }
  }

  private async copyStep(st: State, ins: Instruction): Promise<State> {
    const { s } = this;
    const add = ins.keyword === "ADD";
    // --link needs no more than a normal layer here; --parents, --exclude, --checksum and git sources are refused, not ignored.
    checkFlags(ins, add ? ["chown", "chmod", "link"] : ["from", "chown", "chmod", "link"]);
    const vars = this.vars(st);
    const words = (jsonForm(ins.args) ?? expandWords(ins.args, vars, s.df.escape)).map((w, i, all) => (jsonForm(ins.args) && i < all.length ? expandWord(w, vars, s.df.escape) : w));
    if (words.length < 2) throw new InvalidParameterError(`${ins.keyword} requires at least two arguments, but only one was provided. Destination could not be determined.`);
    const destWritten = words.at(-1)!;
    const srcs = words.slice(0, -1);
    const dest = posix.isAbsolute(destWritten) ? destWritten : posix.join(st.run.WorkingDir || "/", destWritten) + (destWritten.endsWith("/") && !posix.join(st.run.WorkingDir || "/", destWritten).endsWith("/") ? "/" : "");
    const from = flagValue(ins, "from");
    const chown = flagValue(ins, "chown");
    const chmodText = flagValue(ins, "chmod");
    const mode = chmodText ? Number.parseInt(chmodText, 8) : null;
    if (chmodText && (!/^[0-7]{3,4}$/.test(chmodText) || Number.isNaN(mode))) throw new InvalidParameterError(`invalid chmod parameter: ${chmodText}`);
    const view = from ? await openImageView(s.deps, (await this.sourceImage(from)).record?.topLayer ?? null) : null;
    const heredocDir = ins.heredocs.length ? mkdtempSync(join(s.scratch, "heredoc-")) : null;
    try {
      const root = view?.dir ?? s.ctx.root;
      const sources: CopySource[] = [];
      for (const src of srcs) {
        const doc = /^<<-?["']?([A-Za-z_][A-Za-z0-9_]*)["']?$/.exec(src);
        const hd = doc ? ins.heredocs.find((h) => h.name === doc[1]) : undefined;
        if (hd && heredocDir) {
          const file = join(heredocDir, hd.name);
          writeFileSync(file, hd.expand ? expandHeredoc(hd.content, vars, s.df.escape) : hd.content, { mode: 0o644 });
          sources.push({ path: file, st: lstatSync(file) });
          continue;
        }
        if (/^https?:\/\//.test(src)) {
          if (!add) throw new InvalidParameterError("source can't be a URL for COPY");
          sources.push(await download(src, mkdtempSync(join(s.scratch, "url-")), s.signal));
          continue;
        }
        const rels = expandSource(root, src);
        if (!rels.length) throw new BuildError(`${ins.keyword} failed: no source files were specified`);
        for (const rel of rels) {
          const path = secureJoin(root, rel);
          const lst = lstatOrNull(path);
          if (!lst) {
            throw new BuildError(
              from ? `${ins.keyword} failed: stat ${posix.join("/", rel)}: file does not exist` : `${ins.keyword} failed: file not found in build context or excluded by .dockerignore: stat ${cleanSource(src) || "."}: file does not exist`,
            );
          }
          sources.push({ path, st: lst });
        }
      }
      const hashes = sources.map(hashSource);
      // dockerd's text, its missing space after --chown included.
      const flagsText = (chown ? `--chown=${chown}` : "") + (chmodText ? `--chmod=${chmodText}` : "");
      const createdBy = this.nop(st, `${ins.keyword} ${flagsText}${sourcesLabel(sources, hashes)} in ${destWritten} `, 1);
      const image = await this.cached(st, [createdBy, st.run.WorkingDir, chown ?? "", chmodText ?? "", dest, hashes], createdBy, async () => {
        const layer = await withWritableLayer(s.deps, st.image.record?.topLayer ?? null, async (rootfs) => {
          const owner = chown ? resolveOwner(rootfs, expandWord(chown, vars, s.df.escape)) : null;
          await copyInto(rootfs, sources, dest, { owner, mode, extract: add });
        });
        return this.commit(st, st.run, createdBy, layer);
      });
      return { ...st, image, run: runConfigOf(image.config) };
    } finally {
      await view?.release();
    }
  }
}

