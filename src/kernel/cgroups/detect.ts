import { existsSync } from "node:fs";
import { join } from "node:path";
import type { CgroupManager } from "./types.ts";
import { CgroupV1 } from "./v1.ts";
import { CgroupV2 } from "./v2.ts";

/**
 * Pure v2 when the root itself is a cgroup2 mount (it has cgroup.controllers);
 * otherwise v1 controllers, which includes hybrid hosts whose v2 mount at
 * unified/ carries no controllers (systemd's "hybrid" layout) — as runc decides.
 */
export function detectCgroupVersion(root = "/sys/fs/cgroup"): 1 | 2 {
  return existsSync(join(root, "cgroup.controllers")) ? 2 : 1;
}

export function newCgroupManager(root = "/sys/fs/cgroup", parent = "ctr"): CgroupManager {
  return detectCgroupVersion(root) === 2 ? new CgroupV2(root, parent) : new CgroupV1(root, parent);
}
