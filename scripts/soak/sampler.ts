// What the soak watches in the daemon: RSS, open fds, threads (from /proc) and
// event-loop lag (how long GET /_ping takes while the daemon is loaded).
import { readdirSync, readFileSync } from "node:fs";

export interface Sample {
  /** Seconds since the soak began. */
  t: number;
  rssMb: number;
  fds: number;
  threads: number;
  pingMs: number;
  ops: number;
  errors: number;
}

export function procStats(pid: number): { rssMb: number; threads: number; fds: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const rssKb = Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0);
    const threads = Number(/^Threads:\s+(\d+)/m.exec(status)?.[1] ?? 0);
    const fds = readdirSync(`/proc/${pid}/fd`).length;
    return { rssMb: Math.round(rssKb / 102.4) / 10, threads, fds };
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
  return `${c(s.t, 6)}s  rss ${c(s.rssMb.toFixed(1), 7)} MB  fds ${c(s.fds, 4)}  threads ${c(s.threads, 3)}  ping ${c(s.pingMs, 5)} ms  ops ${c(s.ops, 6)}  errors ${c(s.errors, 4)}`;
}

export const SAMPLE_HEADER = "  time  daemon RSS       open fds  threads      /_ping       ops done     failed";
