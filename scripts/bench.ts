// Benchmarks ctr on this machine: start latency, memory, pull speed.
// Usage (root): bun run build && bun scripts/bench.ts [--runs 20] [--containers 20] [--live-restore] [--no-pull] [--no-docker]
//                                      [--pull-rounds 3]
//               (--no-pull also skips the memory figures: scripts/bench/memory.ts pulls two images)
//               bun scripts/bench.ts --build [--runs 10]   (only the builder's figures: scripts/bench-build.ts)
// Prints a table of figures, each beside its floor (scripts/bench/floors.ts)
// measured in the same run; never used by tests.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DIST, startDaemon, run, type TestDaemon } from "../test/helpers/daemon.ts";
import { startRegistry, seedBusybox, seedLarge } from "../test/helpers/registry.ts";
import { benchBuild } from "./bench-build.ts";
import { bareProgram, runcBundle, runcRun, timeCommand, timeCurlPipeline, timeInTurns } from "./bench/floors.ts";
import { timeDockerExec } from "./bench/docker.ts";
import { benchMemory } from "./bench/memory.ts";

/** Ends the figures early (--build measures only the builder). */
class Done extends Error {}

const arg = (name: string, d: number) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : d;
};
const RUNS = arg("--runs", 20);
const N = arg("--containers", 20);
/** Daemon flags under test (e.g. --live-restore: containers started through the keeper). */
const DAEMON_FLAGS = process.argv.includes("--live-restore") ? ["--live-restore"] : [];
const PULL = !process.argv.includes("--no-pull");
const DOCKER = !process.argv.includes("--no-docker");
const PULL_ROUNDS = arg("--pull-rounds", 3);
/** Scratch for the floors (bare program, runc bundle, curl|tar output). */
const TMP = mkdtempSync(join(tmpdir(), "ctr-bench-"));

function rssKiB(pid: number, field = "VmRSS"): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) : 0;
}
/** Proportional set size from /proc/<pid>/smaps_rollup. */
function pssKiB(pid: number, field = "Pss"): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(readFileSync(`/proc/${pid}/smaps_rollup`, "utf8"));
  return m ? Number(m[1]) : 0;
}
/** The keeper of a test daemon's exec root (`… keeper.js <dir>/run`). */
function keeperOf(dir: string): number {
  for (const p of readdirSync("/proc")) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const argv = readFileSync(`/proc/${p}/cmdline`, "utf8").split("\0");
      if ((argv.at(-3) === "keeper" || argv.at(-3)?.endsWith("/keeper.js")) && argv.at(-2) === `${dir}/run`) return Number(p);
    } catch {}
  }
  throw new Error("no keeper found");
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const mib = (kib: number) => `${(kib / 1024).toFixed(1)} MiB`;
/** A figure beside its floor, and their ratio (both medians of the same run). */
const vs = (ms: number, floor: number, what: string) =>
  `${ms.toFixed(1)} ms   ${what} ${floor.toFixed(1)} ms   ratio ${(ms / floor).toFixed(2)}`;

/** The daemon's share of a run, through the API (no CLI process): create, start, exit → removed. */
async function apiPhases(client: TestDaemon["client"], image: string): Promise<string> {
  const rows: number[][] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    const { Id } = await client.json<{ Id: string }>("POST", "/containers/create", {
      body: { Image: image, Cmd: ["true"], HostConfig: { NetworkMode: "none", AutoRemove: true } },
    });
    const t1 = performance.now();
    const removed = await client.request("POST", `/containers/${Id}/wait`, { query: { condition: "removed" } });
    const t2 = performance.now();
    await client.request("POST", `/containers/${Id}/start`);
    const t3 = performance.now();
    await removed.text();
    rows.push([t1 - t0, t3 - t2, performance.now() - t3]);
  }
  const med = (k: number) => median(rows.map((r) => r[k]!)).toFixed(1);
  return `create ${med(0)} ms, start ${med(1)} ms, exit→removed ${med(2)} ms`;
}

const reg = await startRegistry();
const BUILD_ONLY = process.argv.includes("--build");

/**
 * Pulls into a fresh daemon, in turns with the floor, PULL_ROUNDS times: one pull
 * swung 0.85–1.8× its floor between runs on this VM (a binary copied just before,
 * another daemon's teardown), so the figure is the median of rounds.
 */
async function benchPull(): Promise<void> {
  const big = await seedLarge(reg.host, { layers: 4, mbPerLayer: 30 });
  const pulls: number[] = [];
  const floors: number[] = [];
  const peaks: number[] = [];
  for (let i = 0; i < PULL_ROUNDS; i++) {
    const d2 = await startDaemon([], undefined, { bin: DIST });
    try {
      const t0 = performance.now();
      const r = await run([DIST, "pull", big], { env: { CTR_HOST: d2.host } });
      if (r.code !== 0) throw new Error(r.stderr);
      pulls.push(performance.now() - t0);
      peaks.push(rssKiB(d2.proc.pid, "VmHWM"));
    } finally {
      await d2[Symbol.asyncDispose]();
    }
    floors.push(await timeCurlPipeline(big, join(TMP, "pull")));
    rmSync(join(TMP, "pull"), { recursive: true, force: true });
  }
  results.push([`pull 120 MB, 4 layers (local registry, median of ${PULL_ROUNDS})`, vs(median(pulls), median(floors), "curl|gzip -d|tar -x, layers in parallel")]);
  results.push(["daemon peak RSS during that pull (VmHWM, median)", mib(median(peaks))]);
}
/** The client's own start: `ctr --version` and `ctr ps` beside a bare compiled Bun program. */
async function benchClient(host: string): Promise<void> {
  const bare = await bareProgram(TMP);
  const env = { CTR_HOST: host };
  const [floor, version, ps] = (await timeInTurns([{ argv: [bare] }, { argv: [DIST, "--version"] }, { argv: [DIST, "ps"], env }], RUNS)).map(median) as [number, number, number];
  results.push([`ctr --version (median of ${RUNS})`, vs(version, floor, "bare bun --compile")]);
  results.push([`ctr ps (median of ${RUNS})`, vs(ps, floor, "bare bun --compile")]);
}

/** ctr's busybox rootfs as files, for runc: `ctr export` of a created container. */
async function exportRootfs(host: string, image: string, into: string): Promise<void> {
  const env = { CTR_HOST: host };
  const c = await run([DIST, "create", "--network", "none", image, "true"], { env });
  if (c.code !== 0) throw new Error(`ctr create: ${c.stderr}`);
  const id = c.stdout.trim();
  try {
    await timeCommand(["bash", "-o", "pipefail", "-c", `"$0" export "$1" | tar -x -C "$2"`, DIST, id, into], 1, env);
  } finally {
    await run([DIST, "rm", "-f", id], { env });
  }
}

/** `ctr exec CONTAINER true`, beside `docker exec` on Debian's dockerd when it can run here. */
async function benchExec(host: string, image: string): Promise<string> {
  const env = { CTR_HOST: host };
  const r = await run([DIST, "run", "-d", "--network", "none", image, "sleep", "600"], { env });
  if (r.code !== 0) throw new Error(`ctr run -d: ${r.stderr}`);
  const id = r.stdout.trim();
  try {
    await timeCommand([DIST, "exec", id, "true"], 1, env); // warm
    const ours = median(await timeCommand([DIST, "exec", id, "true"], RUNS, env));
    const docker = DOCKER ? await timeDockerExec(image, RUNS) : "--no-docker";
    return typeof docker === "string" ? `${ours.toFixed(1)} ms   (docker exec not measured: ${docker})` : vs(ours, median(docker), "docker exec");
  } finally {
    await run([DIST, "rm", "-f", id], { env });
  }
}

const results: [string, string][] = [];
try {
  const bb = await seedBusybox(reg.host);
  if (BUILD_ONLY) {
    results.push(...(await benchBuild(bb, arg("--runs", 10))));
    throw new Done();
  }
  const d = await startDaemon(DAEMON_FLAGS, undefined, { bin: DIST });
  const ctr = (args: string[]) => run([DIST, ...args], { env: { CTR_HOST: d.host } });
  try {
    results.push(["daemon RSS idle (fresh)", mib(rssKiB(d.proc.pid))]);
    await ctr(["pull", bb]);
    await ctr(["run", "--rm", bb, "true"]); // warm caches
    await benchClient(d.host);
    const bundle = await runcBundle(TMP, (into) => exportRootfs(d.host, bb, into));
    // In turns with runc (and the bridge run), as the client figures: the load on this machine swings.
    const env = { CTR_HOST: d.host };
    const [none, runc, bridge] = await timeInTurns([{ argv: [DIST, "run", "--rm", "--network", "none", bb, "true"], env }, runcRun(bundle), { argv: [DIST, "run", "--rm", bb, "true"], env }], RUNS);
    results.push([`ctr run --rm --network none busybox true (median of ${RUNS})`, vs(median(none!), median(runc!), "runc run")]);
    results.push([`ctr run --rm busybox true, bridge (median of ${RUNS})`, `${median(bridge!).toFixed(1)} ms`]);
    results.push(["bridge networking extra start latency", `${(median(bridge!) - median(none!)).toFixed(1)} ms`]);
    // Back to back through the API the init kept ahead has no time to boot: these are cold starts.
    results.push([`daemon side of run --rm --network none (API, back to back, median of ${RUNS})`, await apiPhases(d.client, bb)]);
    results.push([`ctr exec true (median of ${RUNS})`, await benchExec(d.host, bb)]);
    const idle = rssKiB(d.proc.pid);
    results.push(["daemon RSS idle (after runs)", mib(idle)]);
    const ids: string[] = [];
    let keeperOne = 0;
    for (let i = 0; i < N; i++) {
      const r = await run([DIST, "run", "-d", bb, "sleep", "600"], { env: { CTR_HOST: d.host } });
      ids.push(r.stdout.trim());
      if (i === 0 && DAEMON_FLAGS.length) keeperOne = pssKiB(keeperOf(d.dir));
    }
    const busy = rssKiB(d.proc.pid);
    results.push([`daemon RSS with ${N} running sleep containers`, mib(busy)]);
    results.push(["daemon RSS per container", `${((busy - idle) / N).toFixed(0)} KiB`]);
    if (DAEMON_FLAGS.length) {
      // The keeper's cost (smaps_rollup): PSS shares the runtime's pages with the daemon; anon is its own.
      const k = keeperOf(d.dir);
      const many = pssKiB(k);
      results.push([`keeper PSS with 1 / ${N} containers (anon ${pssKiB(k, "Pss_Anon")} KiB)`, `${mib(keeperOne)} / ${mib(many)}`]);
      results.push(["keeper PSS per container", `${((many - keeperOne) / (N - 1)).toFixed(0)} KiB`]);
    }
    await ctr(["rm", "-f", ...ids]);
  } finally {
    await d[Symbol.asyncDispose]();
  }
  // Pull of a ≥100 MB multi-layer image into a fresh daemon: time and peak RSS.
  if (PULL) await benchPull();
  if (PULL) results.push(...(await benchMemory(reg.host, bb)));
} catch (e) {
  if (!(e instanceof Done)) throw e;
} finally {
  await reg.stop();
  rmSync(TMP, { recursive: true, force: true });
}
const w = Math.max(...results.map(([k]) => k.length));
for (const [k, v] of results) console.log(`${k.padEnd(w)}  ${v}`);
