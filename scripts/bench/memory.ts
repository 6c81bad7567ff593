// The daemon's memory figures of issue 16, in one fresh daemon: RSS fresh, the peak
// (VmHWM) while pulling a 128 MB single-layer image and then a 6-layer 54 MB one, RSS
// after those pulls and 20 `run --rm`, and after a quiet moment (the daemon gives memory
// back after a burst, src/server/idle-release.ts). RSS is split: anon is the daemon's
// own (JS heap, mimalloc); file is the binary's pages it touched (Bun's code and our
// bundle, shared with every ctr process and dropped by the kernel first under pressure),
// itself split by the binary's mappings: Bun's code (r-x), read-only data (r--), our bundle
// with the binary's data (rw-, the .bun section), and shared libraries. Each page fault on
// them maps a 64 KB window (the kernel's fault-around), so these count windows, not pages used.
import { readFileSync, readlinkSync } from "node:fs";
import { DIST, startDaemon, run } from "../../test/helpers/daemon.ts";
import { randomImage } from "../fixtures/images.ts";
import { pushImage } from "../fixtures/oci.ts";

const status = (pid: number, field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) / 1024;
const rss = (pid: number) => `${status(pid, "VmRSS").toFixed(1)} MiB (anon ${status(pid, "RssAnon").toFixed(1)} + file ${status(pid, "RssFile").toFixed(1)}: ${fileSplit(pid)})`;

/** The file-backed part of RSS per kind of mapping, from /proc/<pid>/smaps. */
function fileSplit(pid: number): string {
  const exe = readlinkSync(`/proc/${pid}/exe`);
  const kib: Record<string, number> = { code: 0, rodata: 0, bundle: 0, libs: 0 };
  let kind: string | null = null;
  for (const line of readFileSync(`/proc/${pid}/smaps`, "utf8").split("\n")) {
    const m = /^[0-9a-f]+-[0-9a-f]+ (\S+) \S+ \S+ \d+\s*(.*)$/.exec(line);
    if (m) {
      const [perms, path] = [m[1]!, m[2]!.trim()];
      kind = path === exe ? (perms.includes("x") ? "code" : perms.startsWith("rw") ? "bundle" : "rodata") : path.startsWith("/") ? "libs" : null;
      continue;
    }
    const f = /^(Rss|Anonymous):\s+(\d+) kB/.exec(line);
    if (f && kind) kib[kind]! += (f[1] === "Rss" ? 1 : -1) * Number(f[2]);
  }
  return Object.entries(kib).map(([k, v]) => `${k} ${(v / 1024).toFixed(1)}`).join(", ");
}

/** Registries the two test images were pushed to already: an A/B pushes them once, not once per daemon. */
const pushed = new Set<string>();

export async function benchMemory(registry: string, busybox: string, runs = 20, bin = DIST, env: Record<string, string> = {}): Promise<[string, string][]> {
  if (!pushed.has(registry)) {
    await pushImage(registry, "test/one-layer", "latest", await randomImage(1, 128_000_000));
    await pushImage(registry, "test/six-layers", "latest", await randomImage(6, 9_000_000));
    pushed.add(registry);
  }
  const d = await startDaemon([], undefined, { bin, env });
  const pid = d.proc.pid;
  const ctr = async (args: string[]) => {
    const r = await run([bin, ...args], { env: { CTR_HOST: d.host } });
    if (r.code !== 0) throw new Error(`ctr ${args.join(" ")}: ${r.stderr}`);
  };
  const out: [string, string][] = [];
  try {
    await Bun.sleep(500);
    out.push(["memory: daemon RSS fresh", rss(pid)]);
    await ctr(["pull", `${registry}/test/one-layer:latest`]);
    out.push(["memory: peak RSS pulling 128 MB, 1 layer (VmHWM)", `${status(pid, "VmHWM").toFixed(1)} MiB`]);
    await ctr(["pull", `${registry}/test/six-layers:latest`]);
    out.push(["memory: peak RSS after also 54 MB, 6 layers (VmHWM)", `${status(pid, "VmHWM").toFixed(1)} MiB`]);
    await ctr(["pull", busybox]);
    for (let i = 0; i < runs; i++) await ctr(["run", "--rm", busybox, "true"]);
    out.push([`memory: RSS after the pulls and ${runs} run --rm`, rss(pid)]);
    await Bun.sleep(5000);
    out.push(["memory: RSS 5 s later (idle)", rss(pid)]);
  } finally {
    await d[Symbol.asyncDispose]();
  }
  return out;
}
