// cgroup v1: one hierarchy per controller, the container at
// `<root>/<controller>/<parent>/<id>` (Documentation/admin-guide/cgroup-v1/).
// Also what runs on hybrid hosts (v1 controllers + an empty v2 at unified/).
import { existsSync, lstatSync, mkdirSync, readdirSync, readlinkSync, renameSync } from "node:fs";
import { join } from "node:path";
import { killAndRemove, procs, readKeyed, readNum, readText, subdirs, until, writeIfExists } from "./files.ts";
import { PlacedCgroups } from "./placement.ts";
import type { CgroupManager, CgroupStats, CgroupView, Resources } from "./types.ts";

/** mknod of anything is allowed (use is not); then null zero full random urandom tty console ptmx, pts, tun. */
export const DEFAULT_DEVICE_RULES = [
  "c *:* m", "b *:* m", "c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm", "c 1:8 rwm", "c 1:9 rwm",
  "c 5:0 rwm", "c 5:1 rwm", "c 5:2 rwm", "c 136:* rwm", "c 10:200 rwm",
];

const CONTROLLERS = ["memory", "cpu", "cpuacct", "pids", "freezer", "blkio", "devices", "cpuset"];

export class CgroupV1 extends PlacedCgroups implements CgroupManager {
  readonly version = 1;
  /** The container's directory relative to the hierarchy's root. */
  private rel(hierarchy: string, id: string): string {
    return this.at.rel(id, hierarchy);
  }

  private dir(ctrl: string, id: string): string {
    return join(this.root, ctrl, this.rel(ctrl, id));
  }

  /** Mounted controllers; cpu and cpuacct are often one mount (cpu,cpuacct) with symlinks. */
  private controllers(): string[] {
    return CONTROLLERS.filter((c) => existsSync(join(this.root, c)));
  }

  create(id: string, r: Resources): void {
    for (const ctrl of this.controllers()) {
      const d = this.dir(ctrl, id);
      if (ctrl === "cpuset") this.createCpuset(id);
      else mkdirSync(d, { recursive: true });
    }
    this.update(id, r);
    if (r.devices !== "all") this.restrictDevices(id);
  }

  update(id: string, r: Resources): void {
    const mem = this.dir("memory", id);
    if (r.memory) {
      // memsw must stay ≥ the limit at every step (EINVAL otherwise): raising the
      // limit above the current memsw needs memsw first, lowering it the limit first.
      const limit = join(mem, "memory.limit_in_bytes");
      const memsw = join(mem, "memory.memsw.limit_in_bytes");
      const swapFirst = r.memorySwap !== undefined && r.memory > readNum(memsw) && readNum(memsw) > 0;
      if (swapFirst) writeIfExists(memsw, r.memorySwap!);
      writeIfExists(limit, r.memory);
      if (r.memorySwap && !swapFirst) writeIfExists(memsw, r.memorySwap);
    }
    const cpu = this.dir("cpu", id);
    if (r.cpuQuota) {
      writeIfExists(join(cpu, "cpu.cfs_period_us"), r.cpuPeriod ?? 100_000);
      writeIfExists(join(cpu, "cpu.cfs_quota_us"), r.cpuQuota);
    }
    if (r.cpuShares) writeIfExists(join(cpu, "cpu.shares"), r.cpuShares);
    writeIfExists(join(this.dir("pids", id), "pids.max"), r.pidsLimit || "max");
  }

  /**
   * Without this, CAP_MKNOD (in Docker's default set) would let a container
   * create and open /dev/sda. Deny everything, then allow Docker's default
   * list (moby oci/devices_linux.go + runc's AllowedDevices), as runc writes
   * devices.deny / devices.allow (cgroup-v1/devices.rst).
   */
  private restrictDevices(id: string): void {
    const d = this.dir("devices", id);
    if (!writeIfExists(join(d, "devices.deny"), "a")) return;
    for (const rule of DEFAULT_DEVICE_RULES) writeIfExists(join(d, "devices.allow"), rule);
  }

  /** A new cpuset cgroup has empty cpus/mems and refuses tasks until they are copied down (cpusets.txt §1.4). */
  private createCpuset(id: string): void {
    // Every level down to the leaf, parents first (a parent may be several levels deep).
    let up = join(this.root, "cpuset");
    for (const part of this.rel("cpuset", id).split("/")) {
      const cur = join(up, part);
      mkdirSync(cur, { recursive: true });
      for (const f of ["cpuset.cpus", "cpuset.mems"]) if (!readText(join(cur, f)).trim()) writeIfExists(join(cur, f), readText(join(up, f)).trim());
      up = cur;
    }
  }

  rename(from: string, to: string): void {
    for (const c of this.controllers()) {
      const src = this.dir(c, from);
      // cpu and cpuacct may be one hierarchy seen twice (symlinks): renamed on the first pass.
      if (existsSync(src)) renameSync(src, this.dir(c, to));
    }
  }

  containerView(id: string): CgroupView {
    const mounts: { name: string; source: string }[] = [];
    const links: { name: string; target: string }[] = [];
    for (const name of readdirSync(this.root)) {
      const p = join(this.root, name);
      let st;
      try {
        st = lstatSync(p);
      } catch {
        continue;
      }
      if (st.isSymbolicLink()) links.push({ name, target: readlinkSync(p) });
      // Only hierarchies the container has a directory in (not name=systemd, not a hybrid's unified).
      else if (st.isDirectory() && existsSync(join(p, this.rel(name, id)))) mounts.push({ name, source: join(p, this.rel(name, id)) });
    }
    return { version: 1, mounts, links: links.filter((l) => mounts.some((m) => m.name === l.target)) };
  }

  procsFiles(id: string): string[] {
    return this.controllers().map((c) => join(this.dir(c, id), "cgroup.procs")).filter((f) => existsSync(f));
  }

  addProcess(id: string, pid: number): void {
    for (const f of this.procsFiles(id)) writeIfExists(f, pid);
  }

  oomKills(id: string): number {
    // The oom_kill counter in memory.oom_control exists since Linux 4.13.
    return readKeyed(join(this.dir("memory", id), "memory.oom_control")).oom_kill ?? 0;
  }

  async freeze(id: string): Promise<void> {
    await this.setFreezer(id, "FROZEN");
  }
  async thaw(id: string): Promise<void> {
    await this.setFreezer(id, "THAWED");
  }
  /** freezer.state passes through FREEZING; wait until the kernel reports the final state. */
  private async setFreezer(id: string, state: "FROZEN" | "THAWED"): Promise<void> {
    const f = join(this.dir("freezer", id), "freezer.state");
    if (!writeIfExists(f, state)) throw new Error("the freezer cgroup controller is not mounted");
    if (!(await until(() => readText(f).trim() === state))) throw new Error(`cgroup ${id} did not become ${state}`);
  }

  pids(id: string): number[] {
    for (const c of ["pids", "memory", "freezer"]) {
      const d = this.dir(c, id);
      if (existsSync(d)) return procs(d);
    }
    return [];
  }

  stats(id: string): CgroupStats {
    const mem = this.dir("memory", id);
    const acct = this.dir("cpuacct", id);
    const pids = this.dir("pids", id);
    const blk = readText(join(this.dir("blkio", id), "blkio.throttle.io_service_bytes"));
    const sum = (op: string) =>
      blk.split("\n").reduce((a, l) => {
        const [, o, v] = l.split(" ");
        return o === op ? a + Number(v) : a;
      }, 0);
    const limit = readNum(join(mem, "memory.limit_in_bytes"));
    return {
      cpuTotal: readNum(join(acct, "cpuacct.usage")),
      cpuPercpu: readText(join(acct, "cpuacct.usage_percpu")).trim().split(/\s+/).filter(Boolean).map(Number),
      memoryUsage: readNum(join(mem, "memory.usage_in_bytes")),
      // v1 reports "unlimited" as PAGE_COUNTER_MAX rounded to pages (~2^63).
      memoryLimit: limit >= 2 ** 62 ? 0 : limit,
      memoryStats: readKeyed(join(mem, "memory.stat")),
      pids: readNum(join(pids, "pids.current")),
      pidsLimit: readNum(join(pids, "pids.max")),
      blkioRead: sum("Read"),
      blkioWrite: sum("Write"),
    };
  }

  exists(id: string): boolean {
    return this.controllers().some((c) => existsSync(this.dir(c, id)));
  }

  async remove(id: string): Promise<void> {
    // A frozen task cannot die: thaw first (SIGKILL stays pending while frozen).
    if (readText(join(this.dir("freezer", id), "freezer.state")).trim() === "FROZEN") await this.thaw(id).catch(() => {});
    for (const c of this.controllers()) await killAndRemove(this.dir(c, id), this.fake);
    this.at.set(id);
  }

  list(): string[] {
    const ids = new Set<string>();
    for (const c of this.controllers()) for (const id of subdirs(join(this.root, c, this.parent))) ids.add(id);
    return [...ids];
  }
}
