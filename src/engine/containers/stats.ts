import type { ContainerStats } from "./ports.ts";
import type { Container } from "./types.ts";

export interface StatsSample {
  read: string;
  s: ContainerStats;
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
    },
    num_procs: 0,
    storage_stats: {},
    cpu_stats: cpu(cur),
    precpu_stats: cpu(prev),
    memory_stats: { usage: cur.s.memoryUsage, limit: cur.s.memoryLimit, stats: cur.s.memoryStats },
    name: `/${c.name}`,
    id: c.id,
    networks: {},
  };
}
