// `top` rows from /proc/<pid>, in the columns `ps -ef` prints (Docker runs ps
// on the host and filters by the container's pids; we read /proc directly).
import { readFileSync } from "node:fs";
import type { ProcessTable } from "./types.ts";

const HZ = 100; // USER_HZ on every Linux ABI we build for

function bootTime(): number {
  const m = /^btime (\d+)$/m.exec(readFileSync("/proc/stat", "utf8"));
  return m ? Number(m[1]) : Date.now() / 1000;
}

function userName(uid: string): string {
  try {
    for (const l of readFileSync("/etc/passwd", "utf8").split("\n")) {
      const f = l.split(":");
      if (f[2] === uid && f[0]) return f[0];
    }
  } catch {}
  return uid;
}

const pad = (n: number) => String(n).padStart(2, "0");

export function psRow(pid: number, boot = bootTime()): string[] | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // comm may hold spaces and parentheses: split after the last ")".
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ppid = rest[1]!;
    const ticks = Number(rest[11]) + Number(rest[12]);
    const start = new Date((boot + Number(rest[19]) / HZ) * 1000);
    const uid = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? "0";
    const ttyNr = Number(rest[4]);
    const tty = ttyNr === 0 ? "?" : `pts/${(ttyNr & 0xff) | ((ttyNr >> 12) & 0xfff00)}`;
    let cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean).join(" ");
    if (!cmd) cmd = `[${stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"))}]`;
    const t = Math.floor(ticks / HZ);
    const time = `${pad(Math.floor(t / 3600))}:${pad(Math.floor(t / 60) % 60)}:${pad(t % 60)}`;
    return [userName(uid), String(pid), ppid, "0", `${pad(start.getHours())}:${pad(start.getMinutes())}`, tty, time, cmd];
  } catch {
    return null;
  }
}

export function processTable(pids: number[]): ProcessTable {
  const boot = bootTime();
  return {
    Titles: ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"],
    Processes: pids.sort((a, b) => a - b).map((p) => psRow(p, boot)).filter((r): r is string[] => r !== null),
  };
}

/** /proc/stat's first line in ns, as dockerd's system_cpu_usage. */
export function systemCpuNs(): number {
  const line = readFileSync("/proc/stat", "utf8").split("\n")[0]!;
  const ticks = line.trim().split(/\s+/).slice(1, 8).reduce((a, v) => a + Number(v), 0);
  return (ticks * 1e9) / HZ;
}
