// cgroup v2: one unified tree, the container at `<root>/<parent>/<id>`
// (Documentation/admin-guide/cgroup-v2.rst). Controllers are enabled for
// children through cgroup.subtree_control at every level above the leaf, and
// processes live only in leaves ("no internal processes" rule).
import { existsSync, mkdirSync, renameSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { killAndRemove, procs, readKeyed, readNum, readText, subdirs, until, writeIfExists } from "./files.ts";
import { PlacedCgroups } from "./placement.ts";
import type { CgroupManager, CgroupStats, CgroupView, Resources } from "./types.ts";
import { compileDeviceFilter, parseDeviceRule } from "./device-filter.ts";
import { DEFAULT_DEVICE_RULES } from "./v1.ts";
import { restrictDevices } from "../bpf.ts";

const WANTED = ["cpu", "memory", "pids", "io"];

/** runc's conversion of v1 cpu.shares [2, 262144] to v2 cpu.weight [1, 10000]. */
export function sharesToWeight(shares: number): number {
  if (shares === 0) return 0;
  // Integer division, as runc does it (1024 shares → 39).
  return 1 + Math.floor(((shares - 2) * 9999) / 262142);
}

let program: Uint8Array | null = null;
const DEVICE_PROGRAM = () => (program ??= compileDeviceFilter(DEFAULT_DEVICE_RULES.map(parseDeviceRule)));

export class CgroupV2 extends PlacedCgroups implements CgroupManager {
  readonly version = 2;
  private dir(id: string): string {
    return join(this.root, this.at.rel(id, ""));
  }
  rename(from: string, to: string): void {
    renameSync(this.dir(from), this.dir(to));
  }


  create(id: string, r: Resources): void {
    const d = this.dir(id);
    const parent = dirname(d);
    mkdirSync(parent, { recursive: true });
    const avail = readText(join(this.root, "cgroup.controllers")).trim().split(/\s+/);
    const enable = WANTED.filter((c) => avail.includes(c));
    // Every level from the root down to the leaf's parent hands the controllers on.
    const levels = [this.root];
    for (const part of relative(this.root, parent).split("/").filter(Boolean)) levels.push(join(levels.at(-1)!, part));
    for (const level of levels) {
      const on = readText(join(level, "cgroup.subtree_control")).trim().split(/\s+/);
      const missing = enable.filter((c) => !on.includes(c));
      // One write per controller: a single refused one (e.g. a busy root) must not block the others.
      for (const c of missing) {
        try {
          writeIfExists(join(level, "cgroup.subtree_control"), `+${c}`);
        } catch {}
      }
    }
    mkdirSync(d, { recursive: true });
    this.update(id, r);
    if (r.devices !== "all" && !this.fake && !this.restricted.has(d)) {
      // v2 has no devices controller: the allow list is an eBPF program on the cgroup.
      restrictDevices(d, DEVICE_PROGRAM());
      this.restricted.add(d);
    }
  }

  update(id: string, r: Resources): void {
    const d = this.dir(id);
    if (r.memory) {
      writeIfExists(join(d, "memory.max"), r.memory);
      // v2 counts swap separately; Docker's --memory-swap is memory+swap.
      if (r.memorySwap === -1) writeIfExists(join(d, "memory.swap.max"), "max");
      else if (r.memorySwap && r.memorySwap >= r.memory) writeIfExists(join(d, "memory.swap.max"), r.memorySwap - r.memory);
    }
    if (r.cpuQuota) writeIfExists(join(d, "cpu.max"), `${r.cpuQuota} ${r.cpuPeriod ?? 100_000}`);
    if (r.cpuShares) writeIfExists(join(d, "cpu.weight"), sharesToWeight(r.cpuShares));
    writeIfExists(join(d, "pids.max"), r.pidsLimit || "max");
  }

  /** Cgroups given the device program by this manager (create is idempotent; programs stack). */
  private readonly restricted = new Set<string>();

  containerView(): CgroupView {
    return { version: 2 };
  }

  procsFiles(id: string): string[] {
    return [join(this.dir(id), "cgroup.procs")];
  }

  addProcess(id: string, pid: number): void {
    writeIfExists(join(this.dir(id), "cgroup.procs"), pid);
  }

  oomKills(id: string): number {
    return readKeyed(join(this.dir(id), "memory.events")).oom_kill ?? 0;
  }

  async freeze(id: string): Promise<void> {
    await this.setFrozen(id, true);
  }
  async thaw(id: string): Promise<void> {
    await this.setFrozen(id, false);
  }
  /** cgroup.freeze is a request; cgroup.events says "frozen 1" once every task stopped. */
  private async setFrozen(id: string, on: boolean): Promise<void> {
    const d = this.dir(id);
    if (!writeIfExists(join(d, "cgroup.freeze"), on ? "1" : "0")) throw new Error("cgroup.freeze is missing (Linux < 5.2)");
    const want = on ? 1 : 0;
    const ok = await until(() => {
      const ev = readKeyed(join(d, "cgroup.events"));
      return ev.frozen === undefined || ev.frozen === want;
    });
    if (!ok) throw new Error(`cgroup ${id} did not become ${on ? "frozen" : "thawed"}`);
  }

  pids(id: string): number[] {
    return procs(this.dir(id));
  }

  stats(id: string): CgroupStats {
    const d = this.dir(id);
    const cpu = readKeyed(join(d, "cpu.stat"));
    let rd = 0;
    let wr = 0;
    for (const l of readText(join(d, "io.stat")).split("\n")) {
      rd += Number(/rbytes=(\d+)/.exec(l)?.[1] ?? 0);
      wr += Number(/wbytes=(\d+)/.exec(l)?.[1] ?? 0);
    }
    return {
      cpuTotal: (cpu.usage_usec ?? 0) * 1000,
      cpuPercpu: [],
      memoryUsage: readNum(join(d, "memory.current")),
      memoryLimit: readNum(join(d, "memory.max")),
      memoryStats: readKeyed(join(d, "memory.stat")),
      pids: readNum(join(d, "pids.current")),
      pidsLimit: readNum(join(d, "pids.max")),
      blkioRead: rd,
      blkioWrite: wr,
    };
  }

  exists(id: string): boolean {
    return existsSync(this.dir(id));
  }

  async remove(id: string): Promise<void> {
    const d = this.dir(id);
    if (!existsSync(d)) return;
    if (readKeyed(join(d, "cgroup.events")).frozen === 1) await this.thaw(id).catch(() => {});
    // cgroup.kill (Linux 5.14) kills the whole subtree atomically, forks included.
    if (!this.fake) writeIfExists(join(d, "cgroup.kill"), "1");
    await killAndRemove(d, this.fake);
    this.restricted.delete(d);
    this.at.set(id);
  }

  list(): string[] {
    return subdirs(join(this.root, this.parent));
  }
}
