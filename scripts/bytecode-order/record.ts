// Records the profiles scripts/build.ts lays the binary's bytecode out by (Bun's
// --bytecode-order): which functions a daemon and the common client commands load. Bun
// puts those together at the front of the embedded bytecode, so a process touches a
// contiguous ~1 MB of it instead of pages all over ~5 MB: the daemon's pages of the
// bundle went from 4.9 to 1.6 MiB fresh and from 4.9 to ~2.7 after pulls and 20 runs
// (issue 16 note). Profiles hold hashes of each function's syntax, so they keep applying
// while the code changes; functions that are new or changed go after the profiled ones.
// `kill -USR2 <daemon>` logs how many loaded functions the profile missed (bytecode.cold/
// unknown in the memory line): record again when that share grows.
//
// Usage (root): bun run build && bun scripts/bytecode-order/record.ts && bun run build
import { readdirSync, readFileSync, rmSync, writeFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DIST, startDaemon } from "../../test/helpers/daemon.ts";
import { seedBusybox, startRegistry } from "../../test/helpers/registry.ts";
import { randomImage } from "../fixtures/images.ts";
import { pushImage } from "../fixtures/oci.ts";

const OUT = import.meta.dir;
const tmp = mkdtempSync(join(tmpdir(), "ctr-order-"));
const reg = await startRegistry();
const d = await startDaemon([], undefined, { bin: DIST, env: { BUN_BYTECODE_ORDER_OUT: join(tmp, "daemon-%p.order") } });
/** A client command, recording its own profile. */
const ctr = (args: string[]) => {
  const p = Bun.spawnSync([DIST, ...args], { env: { ...process.env, CTR_HOST: d.host, BUN_BYTECODE_ORDER_OUT: join(tmp, "client-%p.order") } });
  if (p.exitCode !== 0) throw new Error(`ctr ${args.join(" ")}: ${p.stderr}`);
  return p.stdout.toString().trim();
};
try {
  // What a daemon does most: pull, run (bridge and none), exec, logs, inspect, list, remove.
  const bb = await seedBusybox(reg.host);
  await pushImage(reg.host, "test/layers", "latest", await randomImage(3, 2_000_000));
  ctr(["--version"]);
  ctr(["pull", bb]);
  ctr(["pull", `${reg.host}/test/layers:latest`]);
  for (let i = 0; i < 3; i++) ctr(["run", "--rm", bb, "true"]);
  for (let i = 0; i < 3; i++) ctr(["run", "--rm", "--network", "none", bb, "true"]);
  const id = ctr(["run", "-d", bb, "sh", "-c", "echo hello; sleep 60"]);
  ctr(["exec", id, "true"]);
  ctr(["logs", id]);
  ctr(["inspect", id]);
  ctr(["ps"]);
  ctr(["ps", "-a"]);
  ctr(["images"]);
  ctr(["stop", "-t", "0", id]);
  ctr(["rm", id]);
  ctr(["rmi", `${reg.host}/test/layers:latest`]);
} finally {
  await d[Symbol.asyncDispose](); // the daemon writes its profile as it exits
  await reg.stop();
}
writeFileSync(join(OUT, "daemon.order"), merge(readdirSync(tmp).filter((f) => f.startsWith("daemon-")).map((f) => join(tmp, f))));
writeFileSync(join(OUT, "client.order"), merge(readdirSync(tmp).filter((f) => f.startsWith("client-")).sort().map((f) => join(tmp, f))));
rmSync(tmp, { recursive: true, force: true });
console.log(`wrote ${OUT}/daemon.order and ${OUT}/client.order`);

/**
 * One profile from several runs' (one per client process): each line is a kind letter
 * and a hash; kept grouped by kind as Bun writes them, each entry once, first seen first.
 */
function merge(files: string[]): string {
  if (!files.length) throw new Error("no profile was written: is dist/ctr built with bytecode?");
  const kinds = new Map<string, Set<string>>();
  let header = "";
  for (const f of files) {
    const [head, ...lines] = readFileSync(f, "utf8").split("\n");
    header ||= head!;
    if (head !== header) throw new Error(`${f}: profile format ${head}, others ${header}`);
    for (const l of lines) if (l) (kinds.get(l[0]!) ?? kinds.set(l[0]!, new Set()).get(l[0]!)!).add(l);
  }
  return [header, ...[...kinds.values()].flatMap((s) => [...s])].join("\n") + "\n";
}
