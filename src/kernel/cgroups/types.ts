// What the exec driver needs from cgroups, independent of the hierarchy
// version. Both managers take their root as a parameter so tests run them on a
// fake tree in a temp dir (youki's libcgroups does the same).

/** Limits as Docker's HostConfig gives them (already converted by the caller). */
export interface Resources {
  /** Bytes; memory.limit_in_bytes (v1) / memory.max (v2). */
  memory?: number;
  /** Memory + swap in bytes (Docker's --memory-swap); -1 = unlimited swap. */
  memorySwap?: number;
  /** CFS quota and period in µs (--cpus=1.5 → 150000/100000). */
  cpuQuota?: number;
  cpuPeriod?: number;
  /** v1 cpu.shares (--cpu-shares); converted to cpu.weight on v2. */
  cpuShares?: number;
  pidsLimit?: number;
  /** Device access: Docker's default allow-list, or everything (--privileged). Default "default". */
  devices?: "default" | "all";
}

export interface CgroupStats {
  /** Total CPU time in ns. */
  cpuTotal: number;
  /** Per-CPU time in ns (v1 only; v2 has no per-cpu file). */
  cpuPercpu: number[];
  memoryUsage: number;
  /** 0 when unlimited. */
  memoryLimit: number;
  /** memory.stat as numbers (v1 keeps total_inactive_file, v2 inactive_file: Docker's CLI subtracts it). */
  memoryStats: Record<string, number>;
  pids: number;
  pidsLimit: number;
  blkioRead: number;
  blkioWrite: number;
}

/**
 * What a container sees at /sys/fs/cgroup (runc's mountCgroupV1/V2): on v2 a
 * cgroup2 mount, which its cgroup namespace roots at its own cgroup; on v1 a
 * tmpfs with its own directory of each hierarchy bound at the hierarchy's
 * name, and the host's alias links (cpu → cpu,cpuacct).
 */
export type CgroupView =
  | { version: 2 }
  | { version: 1; mounts: { name: string; source: string }[]; links: { name: string; target: string }[] };

export interface CgroupManager {
  readonly version: 1 | 2;
  /**
   * Where the container's cgroup is: below `parent` (HostConfig.CgroupParent,
   * placement.ts rules) instead of the daemon's parent; undefined = the daemon's.
   * Remembered until remove(); set again after a daemon restart before use.
   */
  place(id: string, parent?: string): void;
  /** Creates `<parent>/<id>` and applies the limits. Idempotent. */
  create(id: string, r: Resources): void;
  /** Applies limits to an existing cgroup (docker update): the fields given; pids unset means unlimited. */
  update(id: string, r: Resources): void;
  /**
   * Renames a cgroup (its processes stay in it): a pre-started init waits in
   * one of its own and becomes the container's without a migration.
   */
  rename(from: string, to: string): void;
  /** Moves `pid` into the container's cgroup. */
  addProcess(id: string, pid: number): void;
  /** What the container should see at /sys/fs/cgroup. */
  containerView(id: string): CgroupView;
  /** The directory the process joins (per controller on v1) — for `ctr init` to write itself in. */
  procsFiles(id: string): string[];
  /** How many processes the kernel's OOM killer killed in this cgroup. */
  oomKills(id: string): number;
  freeze(id: string): Promise<void>;
  thaw(id: string): Promise<void>;
  /** Host pids in the cgroup (for `top`). */
  pids(id: string): number[];
  stats(id: string): CgroupStats;
  exists(id: string): boolean;
  /** Kills what is left (SIGKILL) and removes the cgroup. */
  remove(id: string): Promise<void>;
  /** Ids of the cgroups under the parent (for reconciling after a crash). */
  list(): string[];
}
