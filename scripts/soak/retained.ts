// What a daemon keeps alive after finished work, from its heap snapshots: buffers
// over 10 KB that only a native strong handle holds (Bun's pending reads of native
// streams). A healthy daemon holds a couple (its live pipes); one that grows with every
// exec retains two 256 KB read buffers per exec (issue 18 note: Bun.spawn's pipes of a
// `ctr init` exec; native execs keep none — CTR_NATIVE_EXEC=0 in the env shows the old way).
//
//   bun run build && bun scripts/soak/retained.ts [--execs 10]
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { DIST, run, startDaemon } from "../../test/helpers/daemon.ts";
import { seedBusybox, startRegistry } from "../../test/helpers/registry.ts";

const { values: f } = parseArgs({ options: { execs: { type: "string", default: "10" } } });
const snaps = mkdtempSync(join(tmpdir(), "ctr-heap-"));
const reg = await startRegistry();
const d = await startDaemon([], undefined, { bin: DIST, env: { CTR_HEAP_SNAPSHOT_DIR: snaps, CTR_WARM_INIT: "0" } });
const ctr = async (args: string[]) => (await run([DIST, ...args], { env: { CTR_HOST: d.host } })).stdout.trim();

/** Strong-rooted Uint8Arrays over 10 KB in a fresh snapshot (SIGUSR2: src/server/memory-report.ts). */
async function retained(): Promise<number> {
  const before = readdirSync(snaps).length;
  process.kill(d.proc.pid, "SIGUSR2");
  for (let i = 0; i < 100 && readdirSync(snaps).length === before; i++) await Bun.sleep(100);
  await Bun.sleep(200); // the file is written in one call; give it time to land
  const s = JSON.parse(readFileSync(join(snaps, readdirSync(snaps).sort().at(-1)!), "utf8"));
  const kind = new Map<number, [number, string]>();
  for (let i = 0; i < s.nodes.length; i += 4) kind.set(s.nodes[i], [s.nodes[i + 1], s.nodeClassNames[s.nodes[i + 2]]]);
  let n = 0;
  for (let i = 0; i < s.edges.length; i += 4) {
    const [, from] = kind.get(s.edges[i])!;
    const [size, cls] = kind.get(s.edges[i + 1])!;
    if (from === "StrongRootBlock" && cls === "Uint8Array" && size > 10_000) n++;
  }
  return n;
}

try {
  const image = await seedBusybox(reg.host);
  await ctr(["pull", image]);
  const id = await ctr(["run", "-d", "--network", "none", image, "sleep", "300"]);
  console.log(`with one running container: ${await retained()} retained buffers`);
  for (let i = 0; i < Number(f.execs); i++) await ctr(["exec", id, "true"]);
  console.log(`after ${f.execs} execs:           ${await retained()}`);
  await ctr(["rm", "-f", id]);
  console.log(`after the container's removal: ${await retained()}`);
} finally {
  await d[Symbol.asyncDispose]();
  await reg.stop();
  rmSync(snaps, { recursive: true, force: true });
}
