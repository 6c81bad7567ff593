// Pull speed and peak memory side by side, for a noisy machine (issue 16): each round pulls
// the same image with every build given (a fresh daemon each time, so nothing is cached and
// VmHWM is that pull's peak) and runs the curl|gzip -d|tar -x floor, in turns, so load hits
// all alike. Prints per side the median and min wall time, the median ratio to the floor of
// the same round, and the median peak RSS.
// Usage (root): bun run build && bun scripts/bench-pull.ts [--rounds 5] [--layers 4] [--mb 30]
//               [--base /path/to/other/ctr] [--flags "--max-concurrent-downloads 2"]
import { readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DIST, run, startDaemon } from "../test/helpers/daemon.ts";
import { seedLarge, startRegistry } from "../test/helpers/registry.ts";
import { timeCurlPipeline } from "./bench/floors.ts";

const flag = (name: string) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const ROUNDS = Number(flag("--rounds") ?? 5);
const base = flag("--base");
const extra = (flag("--flags") ?? "").split(" ").filter(Boolean);
const sides = [...(base ? [{ name: `base`, bin: base }] : []), { name: "dist/ctr", bin: DIST }];

const hwm = (pid: number) => Number(/^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) / 1024;
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
const load = () => readFileSync("/proc/loadavg", "utf8").split(" ")[0];

const reg = await startRegistry();
try {
  const ref = await seedLarge(reg.host, { layers: Number(flag("--layers") ?? 4), mbPerLayer: Number(flag("--mb") ?? 30) });
  const times = sides.map(() => [] as number[]);
  const ratios = sides.map(() => [] as number[]);
  const peaks = sides.map(() => [] as number[]);
  const floors: number[] = [];
  console.log(`load at start ${load()}`);
  for (let r = 0; r < ROUNDS; r++) {
    const dir = join(tmpdir(), `ctr-bench-pull-${process.pid}`);
    const floor = await timeCurlPipeline(ref, dir);
    rmSync(dir, { recursive: true, force: true });
    floors.push(floor);
    for (const [i, s] of sides.entries()) {
      await using d = await startDaemon(extra, undefined, { bin: s.bin });
      const t0 = performance.now();
      const p = await run([s.bin, "pull", ref], { env: { CTR_HOST: d.host } });
      if (p.code !== 0) throw new Error(`${s.name} pull: ${p.stderr}`);
      const ms = performance.now() - t0;
      times[i]!.push(ms);
      ratios[i]!.push(ms / floor);
      peaks[i]!.push(hwm(d.proc.pid));
    }
  }
  console.log(`floor: median ${med(floors).toFixed(0)} ms, min ${Math.min(...floors).toFixed(0)} ms`);
  for (const [i, s] of sides.entries()) {
    console.log(
      `${s.name.padEnd(10)} median ${med(times[i]!).toFixed(0)} ms  min ${Math.min(...times[i]!).toFixed(0)} ms  ` +
        `ratio to floor (median of rounds) ${med(ratios[i]!).toFixed(2)}  peak RSS median ${med(peaks[i]!).toFixed(1)} MiB ` +
        `(${peaks[i]!.map((p) => p.toFixed(0)).join(" ")})`,
    );
  }
  console.log(`load at end ${load()}`);
} finally {
  await reg.stop();
}
