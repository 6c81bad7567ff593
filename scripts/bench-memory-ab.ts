// The memory figures of scripts/bench/memory.ts for two builds in turns (issue 16):
// fresh daemons of each, rounds alternating, so load and the page cache hit both alike.
// Usage (root): bun run build && bun scripts/bench-memory-ab.ts --base /path/to/other/ctr [--rounds 3] [--runs 5]
import { readFileSync } from "node:fs";
import { DIST } from "../test/helpers/daemon.ts";
import { seedBusybox, startRegistry } from "../test/helpers/registry.ts";
import { benchMemory } from "./bench/memory.ts";

const flag = (name: string) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const base = flag("--base");
const rounds = Number(flag("--rounds") ?? 3);
const runs = Number(flag("--runs") ?? 5);
const sides = [...(base ? [{ name: "base", bin: base }] : []), { name: "dist/ctr", bin: DIST }];
const load = () => readFileSync("/proc/loadavg", "utf8").split(" ")[0];

const reg = await startRegistry();
try {
  const bb = await seedBusybox(reg.host);
  console.log(`load at start ${load()}`);
  for (let r = 0; r < rounds; r++) {
    for (const s of sides) {
      for (const [what, v] of await benchMemory(reg.host, bb, runs, s.bin)) console.log(`${s.name.padEnd(9)} ${what.padEnd(52)} ${v}`);
    }
  }
  console.log(`load at end ${load()}`);
} finally {
  await reg.stop();
}
