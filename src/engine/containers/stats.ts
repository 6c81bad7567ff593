import { readFileSync } from "node:fs";
import { totalmem } from "node:os";
import type { ContainerStats } from "./ports.ts";
import type { Container } from "./types.ts";

export interface StatsSample {
  read: string;
  s: ContainerStats;
  /** Per-interface counters of the container's network namespace (dockerd's `networks`). */
  net?: Record<string, NetCounters>;
}

export interface NetCounters {
  rx_bytes: number;
  rx_packets: number;
  rx_errors: number;
  rx_dropped: number;
  tx_bytes: number;
  tx_packets: number;
  tx_errors: number;
  tx_dropped: number;
}

/**
 * The container's interfaces as /proc/PID/net/dev shows them from inside its
 * netns (loopback left out, like dockerd). Empty when the process is gone.
 */
export function netCounters(pid: number): Record<string, NetCounters> {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/net/dev`, "utf8");
  } catch {
    return {};
  }
  const res: Record<string, NetCounters> = {};
  for (const line of text.split("\n").slice(2)) {
    const m = /^\s*([^:]+):\s*(.*)$/.exec(line);
    if (!m || m[1] === "lo") continue;
    const n = m[2]!.trim().split(/\s+/).map(Number);
    res[m[1]!] = {
      rx_bytes: n[0] ?? 0,
      rx_packets: n[1] ?? 0,
      rx_errors: n[2] ?? 0,
      rx_dropped: n[3] ?? 0,
      tx_bytes: n[8] ?? 0,
      tx_packets: n[9] ?? 0,
      tx_errors: n[10] ?? 0,
      tx_dropped: n[11] ?? 0,
    };
  }
  return res;
}

/**
 * Docker's stats JSON from two samples (precpu_* from the earlier one),
 * which is what `docker stats` computes CPU % from.
 */
export function statsView(c: Container, cur: StatsSample, prev: StatsSample | null) {
  const cpu = (x: StatsSample | null) => ({
    cpu_usage: {
      total_usage: x?.s.cpuTotal ?? 0,
      percpu_usage: x?.s.cpuPercpu ?? [],
      usage_in_kernelmode: 0,
      usage_in_usermode: 0,
    },
    system_cpu_usage: x?.s.systemCpu ?? 0,
    online_cpus: x?.s.onlineCpus ?? 0,
    throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 },
  });
  return {
    read: cur.read,
    preread: prev?.read ?? "0001-01-01T00:00:00Z",
    pids_stats: { current: cur.s.pids },
    blkio_stats: {
      io_service_bytes_recursive: [
        { major: 0, minor: 0, op: "read", value: cur.s.blkioRead },
        { major: 0, minor: 0, op: "write", value: cur.s.blkioWrite },
      ],
      // cgroup v2 has no counterpart for these: dockerd sends them as null too
      io_serviced_recursive: null,
      io_queue_recursive: null,
      io_service_time_recursive: null,
      io_wait_time_recursive: null,
      io_merged_recursive: null,
      io_time_recursive: null,
      sectors_recursive: null,
    },
    num_procs: 0,
    storage_stats: {},
    cpu_stats: cpu(cur),
    precpu_stats: cpu(prev),
    // No limit reads as the host's memory, as dockerd reports it (the CLI's MEM USAGE / LIMIT).
    memory_stats: { usage: cur.s.memoryUsage, limit: cur.s.memoryLimit || totalmem(), stats: cur.s.memoryStats },
    name: `/${c.name}`,
    id: c.id,
    // dockerd omits `networks` for containers without a network of their own (none/host).
    ...(cur.net && Object.keys(cur.net).length ? { networks: cur.net } : {}),
  };
}
