// The soak: its own registry and daemon (dist/ctr), N parallel clients drawing
// scenarios until the time or operation budget is spent, a sampler of the
// daemon's RSS/fds/threads/lag, then a verdict. Used by scripts/soak.ts and,
// shortened, by test/integration/soak.
import { copyFileSync } from "node:fs";
import { startDaemon, DIST, type TestDaemon } from "../../test/helpers/daemon.ts";
import { seedBusybox, startRegistry } from "../../test/helpers/registry.ts";
import type { ApiClient } from "../../src/client/client.ts";
import { pick, SCENARIOS, type SoakCtx } from "./scenarios.ts";
import { formatSample, pingMs, procStats, SAMPLE_HEADER, windows, type Sample } from "./sampler.ts";

export interface SoakOptions {
  durationS: number;
  parallel: number;
  /** Stop drawing scenarios after this many (all workers together). */
  maxOps: number;
  sampleEveryS: number;
  /** Fail when RSS at the end of the load exceeds where it settled by this much (off when undefined). */
  maxRssGrowthMb?: number;
  /** Line sink for the curve and the verdict. */
  print(line: string): void;
  seed?: number;
  /** Only these scenarios (names), for chasing one behaviour. */
  only?: string[];
  /** The daemon binary (default dist/ctr); a copy lets a long soak run while the tree is rebuilt. */
  bin?: string;
}

export interface SoakResult {
  ok: boolean;
  problems: string[];
  samples: Sample[];
  idleBefore: Sample;
  idleAfter: Sample | null;
  /** A while after idleAfter: what the daemon gave back once quiet (src/server/idle-release.ts). */
  idleLater: Sample | null;
  ops: number;
  errors: Record<string, { count: number; first: string }>;
  settledRssMb: number;
  endRssMb: number;
  daemonLog: string;
}

// Slack for what a daemon legitimately keeps after the load: a warm `ctr init`
// (its pipes), Bun's lazily grown thread pools, sqlite's WAL handles.
const FD_SLACK = Number(process.env.SOAK_FD_SLACK ?? 16); // 0 when chasing a leak
const THREAD_SLACK = 6;
/** How long after the clean-up the last sample is taken: the daemon gives memory back once quiet. */
const IDLE_LATER_MS = 10_000;
/** A scenario still running after this is counted failed (and left to finish on its own). */
const SCENARIO_TIMEOUT_MS = 120_000;

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const t = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: still running after ${ms} ms`)), ms)));
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

async function sampleOnce(d: TestDaemon, t0: number, ops: number, errors: number): Promise<Sample | null> {
  const p = procStats(d.proc.pid);
  if (!p || d.proc.exitCode !== null) return null;
  return { t: Math.round((Date.now() - t0) / 1000), ...p, pingMs: await pingMs(d.sock), ops, errors };
}

async function cleanup(api: ApiClient, prefix: string): Promise<void> {
  const named = (n: string | undefined) => !!n && n.replace(/^\//, "").startsWith(prefix);
  const cs = await api.json<{ Id: string; Names: string[] }[]>("GET", "/containers/json", { query: { all: true } });
  for (const c of cs) if (c.Names.some(named)) await api.request("DELETE", `/containers/${c.Id}`, { query: { force: true, v: true } }).catch(() => {});
  const nets = await api.json<{ Id: string; Name: string }[]>("GET", "/networks");
  for (const n of nets) if (named(n.Name)) await api.request("DELETE", `/networks/${n.Id}`).catch(() => {});
  const vols = await api.json<{ Volumes: { Name: string }[] | null }>("GET", "/volumes");
  for (const v of vols.Volumes ?? []) if (named(v.Name)) await api.request("DELETE", `/volumes/${v.Name}`).catch(() => {});
}

/** Waits (bounded) for the daemon to let go of what the load held: fds back near the idle count. */
async function settle(d: TestDaemon, t0: number, before: Sample, ops: number, errors: number): Promise<Sample | null> {
  const deadline = Date.now() + 60_000;
  let s = await sampleOnce(d, t0, ops, errors);
  while (s && s.fds > before.fds + FD_SLACK && Date.now() < deadline) {
    await Bun.sleep(2000);
    s = await sampleOnce(d, t0, ops, errors);
  }
  return s;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)]! : 0;
}

export async function runSoak(o: SoakOptions): Promise<SoakResult> {
  const reg = await startRegistry();
  const d = await startDaemon([], undefined, { bin: o.bin ?? DIST });
  const t0 = Date.now();
  const errors: SoakResult["errors"] = {};
  const samples: Sample[] = [];
  let ops = 0;
  let failed = 0;
  try {
    const image = await seedBusybox(reg.host);
    await (await d.client.request("POST", "/images/create", { query: { fromImage: image } })).text();
    const ctx: SoakCtx = {
      api: d.client,
      sock: d.sock,
      image,
      prefix: `soak${process.pid}`,
      have: { docker: Bun.which("docker") !== null, python: Bun.spawnSync(["python3", "-c", "import docker"]).exitCode === 0 },
    };
    const idleBefore = (await sampleOnce(d, t0, 0, 0))!;
    o.print(`daemon pid ${d.proc.pid}, log ${d.dir}/daemon.log; ${o.parallel} clients for ${o.durationS}s (at most ${o.maxOps} scenarios)`);
    o.print(SAMPLE_HEADER);
    o.print(formatSample(idleBefore));
    const deadline = Date.now() + o.durationS * 1000;
    // Ctrl-C / SIGTERM end the load early but still clean up and give the verdict.
    let interrupted = false;
    const interrupt = () => void (interrupted = true);
    process.once("SIGINT", interrupt);
    process.once("SIGTERM", interrupt);
    const more = () => !interrupted && Date.now() < deadline && ops < o.maxOps && d.proc.exitCode === null;
    const rnd = rng(o.seed ?? Date.now());
    const list = o.only?.length ? SCENARIOS.filter((s) => o.only!.includes(s.name)) : SCENARIOS;
    if (!list.length) throw new Error(`no scenario named ${o.only?.join(", ")}; have ${SCENARIOS.map((s) => s.name).join(", ")}`);
    const worker = async () => {
      while (more()) {
        const s = pick(rnd, list);
        ops++;
        try {
          await withTimeout(s.run(ctx), SCENARIO_TIMEOUT_MS, s.name);
        } catch (e) {
          failed++;
          const msg = (e as Error).message ?? String(e);
          errors[s.name] ??= { count: 0, first: msg };
          errors[s.name]!.count++;
        }
      }
    };
    const sampler = (async () => {
      while (more()) {
        await Bun.sleep(o.sampleEveryS * 1000);
        const s = await sampleOnce(d, t0, ops, failed);
        if (!s) break;
        samples.push(s);
        o.print(formatSample(s));
      }
    })();
    await Promise.all([...Array.from({ length: o.parallel }, worker), sampler]);
    const alive = d.proc.exitCode === null && (await d.client.ping());
    if (alive) await cleanup(d.client, ctx.prefix).catch(() => {});
    const idleAfter = alive ? await settle(d, t0, idleBefore, ops, failed) : null;
    if (idleAfter) o.print(`${formatSample(idleAfter)}  (idle, after clean-up)`);
    let idleLater: Sample | null = null;
    if (idleAfter) {
      await Bun.sleep(IDLE_LATER_MS);
      idleLater = await sampleOnce(d, t0, ops, failed);
      if (idleLater) o.print(`${formatSample(idleLater)}  (idle, ${IDLE_LATER_MS / 1000} s later)`);
    }
    for (const l of windows(samples)) o.print(l);
    return verdict({ o, samples, idleBefore, idleAfter, idleLater, ops, errors, daemonLog: `${d.dir}/daemon.log`, d });
  } finally {
    await d[Symbol.asyncDispose]().catch(() => {});
    await reg.stop().catch(() => {});
  }
}

function verdict(a: { o: SoakOptions; samples: Sample[]; idleBefore: Sample; idleAfter: Sample | null; idleLater: Sample | null; ops: number; errors: SoakResult["errors"]; daemonLog: string; d: TestDaemon }): SoakResult {
  const { o, samples, idleBefore, idleAfter, d } = a;
  const problems: string[] = [];
  if (!idleAfter) {
    const kept = `/tmp/ctr-soak-${process.pid}-daemon.log`;
    try {
      copyFileSync(a.daemonLog, kept);
    } catch {}
    problems.push(`the daemon died (exit ${d.proc.exitCode}, signal ${d.proc.signalCode}); its log: ${kept}\n${d.log().split("\n").slice(-40).join("\n")}`);
  } else {
    if (idleAfter.fds > idleBefore.fds + FD_SLACK) problems.push(`open fds grew: ${idleBefore.fds} idle before, ${idleAfter.fds} idle after`);
    const firstHalf = samples.slice(0, Math.ceil(samples.length / 2));
    const maxThreads = Math.max(idleBefore.threads, ...firstHalf.map((s) => s.threads));
    if (idleAfter.threads > maxThreads + THREAD_SLACK) problems.push(`threads grew: at most ${maxThreads} in the first half, ${idleAfter.threads} idle after`);
  }
  // "Settled": the median over the minute after the first quarter of the run.
  const q = Math.max(1, Math.floor(samples.length / 4));
  const settledRssMb = median(samples.slice(q, q + Math.max(1, Math.round(60 / o.sampleEveryS))).map((s) => s.rssMb));
  const endRssMb = median(samples.slice(-3).map((s) => s.rssMb));
  if (o.maxRssGrowthMb !== undefined && endRssMb > settledRssMb + o.maxRssGrowthMb) {
    problems.push(`RSS grew: settled at ${settledRssMb} MB, ${endRssMb} MB at the end (allowed +${o.maxRssGrowthMb})`);
  }
  if (a.ops > 0 && Object.values(a.errors).reduce((n, e) => n + e.count, 0) === a.ops) problems.push("every scenario failed");
  const failures = Object.entries(a.errors).map(([k, e]) => `  ${k}: ${e.count} failed, first: ${e.first}`);
  o.print(`${a.ops} scenarios; RSS settled ${settledRssMb} MB, end ${endRssMb} MB${failures.length ? `; failures:\n${failures.join("\n")}` : ""}`);
  // A 500's stack trace in the log is worth a look, and many of them would bury a crash report.
  const stacks = d.log().split("\n").filter((l) => l.startsWith("[api] "));
  o.print(`daemon log: ${stacks.length} internal errors with a stack trace ([api] lines)${stacks.length ? `, first: ${stacks[0]!.slice(0, 300)}` : ""}`);
  for (const p of problems) o.print(`FAIL: ${p}`);
  return { ok: problems.length === 0, problems, samples, idleBefore, idleAfter, idleLater: a.idleLater, ops: a.ops, errors: a.errors, settledRssMb, endRssMb, daemonLog: a.daemonLog };
}
