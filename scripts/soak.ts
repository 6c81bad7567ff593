// Soak: drives a daemon of its own (dist/ctr on a temp root, socket and bridge)
// the way clients do, for a bounded time and number of scenarios, and prints
// the daemon's RSS / fds / threads / /_ping lag curve. Exits 1 when the daemon
// died or its fds/threads did not come back after the load (or RSS grew past
// --max-rss-growth). Needs root, docker-registry and busybox-static; run
// `bun run build` first.
//
//   bun scripts/soak.ts --duration 1800 --parallel 4 --sample 10 --max-rss-growth 8
import { parseArgs } from "node:util";
import { runSoak } from "./soak/run.ts";

const { values: f } = parseArgs({
  options: {
    duration: { type: "string", default: "120" },
    parallel: { type: "string", default: "4" },
    "max-ops": { type: "string", default: "100000" },
    sample: { type: "string", default: "5" },
    "max-rss-growth": { type: "string" },
    seed: { type: "string" },
    only: { type: "string" },
    bin: { type: "string" },
  },
});

const r = await runSoak({
  durationS: Number(f.duration),
  parallel: Number(f.parallel),
  maxOps: Number(f["max-ops"]),
  sampleEveryS: Number(f.sample),
  maxRssGrowthMb: f["max-rss-growth"] === undefined ? undefined : Number(f["max-rss-growth"]),
  seed: f.seed === undefined ? undefined : Number(f.seed),
  only: f.only?.split(","),
  bin: f.bin,
  print: (l) => console.log(l),
});
process.exit(r.ok ? 0 : 1);
