// `kill -USR2 <daemon>` logs one line of where the daemon's memory is (as dockerd's
// SIGUSR1 dumps its goroutines): RSS split anon/file from /proc, the JS heap, the
// memory JSC knows lives outside it (ArrayBuffers), and the most numerous object types.
// A soak or a bench can then tell the JS heap from the allocator from the mapped binary.
// With CTR_HEAP_SNAPSHOT_DIR set, each report also writes a JavaScriptCore heap snapshot
// there (after the collection: what is live), for scripts/soak/retained.ts or Safari.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { bytecodeOrderStats, heapStats } from "bun:jsc";
import { log } from "../log.ts";
import { releaseMemory } from "./idle-release.ts";

const MiB = 1024 * 1024;
const mb = (n: number) => Math.round((n / MiB) * 10) / 10;

function statusKiB(field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(readFileSync("/proc/self/status", "utf8"));
  return m ? Number(m[1]) : 0;
}

export function memoryFields(): Record<string, unknown> {
  const h = heapStats();
  const top = Object.entries(h.objectTypeCounts).sort((a, b) => b[1] - a[1]).slice(0, 8);
  return {
    rssMB: mb(statusKiB("VmRSS") * 1024),
    anonMB: mb(statusKiB("RssAnon") * 1024),
    fileMB: mb(statusKiB("RssFile") * 1024),
    peakMB: mb(statusKiB("VmHWM") * 1024),
    heapMB: mb(h.heapSize),
    heapCapacityMB: mb(h.heapCapacity),
    extraMB: mb(h.extraMemorySize),
    objects: h.objectCount,
    top: Object.fromEntries(top),
    ...bytecodeFields(),
  };
}

/**
 * How well the build's bytecode layout (scripts/bytecode-order/) fits what this daemon
 * ran: functions loaded from the profiled (hot) part vs the rest (cold, or unknown to the
 * profile). A growing cold share means the profile wants recording again.
 */
function bytecodeFields(): Record<string, unknown> {
  const o = bytecodeOrderStats();
  if (!o) return {};
  return { bytecode: { hot: o.hot, unknown: o.unknown, cold: o.cold, coldKB: Math.round(o.coldBytes / 1024), unknownKB: Math.round(o.unknownBytes / 1024) } };
}

/** Installs the SIGUSR2 handler (the daemon only: the client and `ctr init` never load this). */
export function reportMemoryOnSignal(): void {
  process.on("SIGUSR2", () => {
    const before = memoryFields();
    // What is garbage and what is live: the same figures after a full collection.
    releaseMemory();
    const after = memoryFields();
    const dir = process.env.CTR_HEAP_SNAPSHOT_DIR;
    if (dir) writeFileSync(join(dir, `heap-${process.pid}-${Date.now()}.json`), JSON.stringify(Bun.generateHeapSnapshot()));
    log.info("memory", { ...before, afterGC: { rssMB: after.rssMB, anonMB: after.anonMB, heapMB: after.heapMB, extraMB: after.extraMB, objects: after.objects } });
  });
}
