// What the soak watches in the daemon: RSS (and its anonymous part: the JS heap and
// the allocator, without the binary's pages), open fds, threads, memory mappings
// (from /proc: a process that runs out of vm.max_map_count fails its next mmap, and
// JavaScriptCore then aborts) and event-loop lag (how long GET /_ping takes).
import { readdirSync, readFileSync } from "node:fs";

export interface Sample {
  /** Seconds since the soak began. */
  t: number;
  rssMb: number;
  anonMb: number;
  fds: number;
  maps: number;
  threads: number;
  pingMs: number;
  ops: number;
  errors: number;
}

export function procStats(pid: number): { rssMb: number; anonMb: number; threads: number; fds: number; maps: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const mb = (field: string) => Math.round(Number(new RegExp(`^${field}:\\s+(\\d+)`, "m").exec(status)?.[1] ?? 0) / 102.4) / 10;
    const threads = Number(/^Threads:\s+(\d+)/m.exec(status)?.[1] ?? 0);
    const fds = readdirSync(`/proc/${pid}/fd`).length;
    const maps = readFileSync(`/proc/${pid}/maps`, "utf8").split("\n").length - 1;
    return { rssMb: mb("VmRSS"), anonMb: mb("RssAnon"), threads, fds, maps };
  } catch {
    return null; // gone
  }
}

/** Milliseconds for one GET /_ping; -1 when it failed or took longer than `timeoutMs`. */
export async function pingMs(sock: string, timeoutMs = 10_000): Promise<number> {
  const t0 = performance.now();
  try {
    const r = await fetch("http://localhost/_ping", { unix: sock, signal: AbortSignal.timeout(timeoutMs) } as RequestInit);
    await r.text();
    return r.ok ? Math.round(performance.now() - t0) : -1;
  } catch {
    return -1;
  }
}

export function formatSample(s: Sample): string {
  const c = (v: string | number, w: number) => String(v).padStart(w);
  return `${c(s.t, 6)}s  rss ${c(s.rssMb.toFixed(1), 7)} MB (anon ${c(s.anonMb.toFixed(1), 6)})  fds ${c(s.fds, 4)}  threads ${c(s.threads, 3)}  maps ${c(s.maps, 5)}  ping ${c(s.pingMs, 5)} ms  ops ${c(s.ops, 6)}  errors ${c(s.errors, 4)}`;
}

export const SAMPLE_HEADER = "  time  daemon RSS (its anonymous part)  open fds  threads  mappings    /_ping       ops done     failed";

/** The curve in windows of `minutes`: min/median/max of RSS and anon, ranges of fds, threads and maps. */
export function windows(samples: Sample[], minutes = 5): string[] {
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
  const out = ["window      RSS min/median/max MB    anon median  fds min/max  threads  maps max  ping median/max ms  ops"];
  const by = new Map<number, Sample[]>();
  for (const s of samples) by.set(Math.floor(s.t / 60 / minutes), [...(by.get(Math.floor(s.t / 60 / minutes)) ?? []), s]);
  for (const [w, ss] of [...by].sort((a, b) => a[0] - b[0])) {
    const r = ss.map((s) => s.rssMb);
    const f = (xs: number[]) => `${Math.min(...xs)}/${Math.max(...xs)}`;
    out.push(
      `${String(w * minutes).padStart(3)}-${String((w + 1) * minutes).padStart(3)} min  ${Math.min(...r).toFixed(1).padStart(6)} / ${med(r).toFixed(1).padStart(6)} / ${Math.max(...r).toFixed(1).padStart(6)}  ${med(ss.map((s) => s.anonMb)).toFixed(1).padStart(8)}     ${f(ss.map((s) => s.fds)).padStart(7)}  ${f(ss.map((s) => s.threads)).padStart(7)}  ${String(Math.max(...ss.map((s) => s.maps))).padStart(8)}  ${`${med(ss.map((s) => s.pingMs))}/${Math.max(...ss.map((s) => s.pingMs))}`.padStart(17)}  ${ss.at(-1)!.ops}`,
    );
  }
  return out;
}
