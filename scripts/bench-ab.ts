// Start latency side by side, for a noisy machine: daemons of dist/ctr (without and with
// --live-restore) and optionally of another build run at the same time, and each
// `ctr run --rm --network none busybox true` goes to them in turn, so load hits all alike.
// Prints min/p25/median wall time and the CPU time per start of the daemon and its keeper
// (utime+stime of them and of the inits they reaped).
// Usage (root): bun run build && bun scripts/bench-ab.ts [--runs 40] [--base /path/to/other/ctr]
import { readdirSync, readFileSync } from "node:fs";
import { DIST, run, startDaemon, type TestDaemon } from "../test/helpers/daemon.ts";
import { seedBusybox, startRegistry } from "../test/helpers/registry.ts";

const flag = (name: string) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const N = Number(flag("--runs") ?? 40);
const base = flag("--base");
const setups = [
  ...(base ? [{ name: `base (${base})`, bin: base, flags: [] as string[] }] : []),
  { name: "dist/ctr", bin: DIST, flags: [] as string[] },
  { name: "dist/ctr --live-restore", bin: DIST, flags: ["--live-restore"] },
];

/** CPU time (ms) of a process and of the children it reaped. */
function cpuMs(pid: number): number {
  const st = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = st.slice(st.lastIndexOf(")") + 2).split(" ");
  return ((Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) * 1000) / 100;
}
function keeperOf(dir: string): number | null {
  for (const p of readdirSync("/proc")) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const a = readFileSync(`/proc/${p}/cmdline`, "utf8").split("\0");
      if ((a.at(-3) === "keeper" || a.at(-3)?.endsWith("/keeper.js")) && a.at(-2) === `${dir}/run`) return Number(p);
    } catch {}
  }
  return null;
}
const cpuOf = (d: TestDaemon) => {
  const k = keeperOf(d.dir);
  return cpuMs(d.proc.pid) + (k ? cpuMs(k) : 0);
};
const q = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) * p)] ?? NaN;

const reg = await startRegistry();
const ds: TestDaemon[] = [];
try {
  const bb = await seedBusybox(reg.host);
  for (const s of setups) ds.push(await startDaemon(s.flags, undefined, { bin: s.bin }));
  const ctr = (i: number, args: string[]) => run([setups[i]!.bin, ...args], { env: { CTR_HOST: ds[i]!.host } });
  for (const i of ds.keys()) {
    await ctr(i, ["pull", bb]);
    await ctr(i, ["run", "--rm", "--network", "none", bb, "true"]);
  }
  const times: number[][] = setups.map(() => []);
  const cpu0 = ds.map(cpuOf);
  const failed = setups.map(() => 0);
  for (let k = 0; k < N; k++) {
    for (const i of ds.keys()) {
      const t0 = performance.now();
      const r = await ctr(i, ["run", "--rm", "--network", "none", bb, "true"]);
      if (r.code === 0) times[i]!.push(performance.now() - t0);
      else failed[i]!++;
    }
  }
  for (const [i, s] of setups.entries()) {
    const t = times[i]!;
    console.log(
      `${s.name.padEnd(28)} min ${q(t, 0).toFixed(1)}  p25 ${q(t, 0.25).toFixed(1)}  median ${q(t, 0.5).toFixed(1)} ms; ` +
        `daemon+keeper CPU ${((cpuOf(ds[i]!) - cpu0[i]!) / N).toFixed(1)} ms per start (n=${N}${failed[i] ? `, ${failed[i]} failed` : ""})`,
    );
  }
} finally {
  for (const d of ds) await d[Symbol.asyncDispose]();
  await reg.stop();
}
