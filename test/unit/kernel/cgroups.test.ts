// cgroup v1 and v2 managers on fake trees in a temp dir (the managers take
// their root as a parameter); the kernel side is simulated by writing the
// files a real controller would have.
import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CgroupV1, CgroupV2, detectCgroupVersion, newCgroupManager, sharesToWeight } from "../../../src/kernel/cgroups/index.ts";
import { DEFAULT_DEVICE_RULES } from "../../../src/kernel/cgroups/v1.ts";
import { cleanParent, containerDir, parseProcCgroup } from "../../../src/kernel/cgroups/placement.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), "ctr-cgroup-unit-"));
  dirs.push(d);
  return d;
}
const read = (p: string) => readFileSync(p, "utf8");

/** Files a controller has in every cgroup; a fake "kernel" pre-creates them in the leaf. */
const V1_FILES: Record<string, string[]> = {
  memory: ["memory.limit_in_bytes", "memory.memsw.limit_in_bytes", "memory.oom_control", "memory.usage_in_bytes", "memory.stat"],
  cpu: ["cpu.cfs_period_us", "cpu.cfs_quota_us", "cpu.shares"],
  cpuacct: ["cpuacct.usage", "cpuacct.usage_percpu"],
  pids: ["pids.max", "pids.current"],
  freezer: ["freezer.state"],
  blkio: ["blkio.throttle.io_service_bytes"],
  devices: ["devices.allow", "devices.deny"],
  cpuset: ["cpuset.cpus", "cpuset.mems"],
};

function v1Tree(id: string): string {
  const root = tmp();
  for (const [ctrl, files] of Object.entries(V1_FILES)) {
    mkdirSync(join(root, ctrl, "ctr", id), { recursive: true });
    for (const f of files) writeFileSync(join(root, ctrl, "ctr", id, f), "");
    writeFileSync(join(root, ctrl, "ctr", id, "cgroup.procs"), "");
  }
  writeFileSync(join(root, "cpuset/cpuset.cpus"), "0-1\n");
  writeFileSync(join(root, "cpuset/cpuset.mems"), "0\n");
  writeFileSync(join(root, "cpuset/ctr/cpuset.cpus"), "");
  writeFileSync(join(root, "cpuset/ctr/cpuset.mems"), "");
  mkdirSync(join(root, "unified"));
  return root;
}

describe("cgroup v1", () => {
  test("the container's view binds its own directory of each hierarchy it has one in; alias links follow", () => {
    const root = v1Tree("c1");
    mkdirSync(join(root, "systemd"));
    symlinkSync("cpu", join(root, "cpu,cpuacct-alias"));
    symlinkSync("nowhere", join(root, "dangling"));
    const v = new CgroupV1(root, "ctr", true).containerView("c1");
    if (v.version !== 1) throw new Error("want a v1 view");
    expect(v.mounts.map((m) => m.name).sort()).toEqual(Object.keys(V1_FILES).sort());
    expect(v.mounts.find((m) => m.name === "memory")!.source).toBe(join(root, "memory/ctr/c1"));
    expect(v.links).toEqual([{ name: "cpu,cpuacct-alias", target: "cpu" }]);
    expect(new CgroupV2(root, "ctr", true).containerView()).toEqual({ version: 2 });
  });

  test("create applies memory, swap, cpu quota/period/shares, pids and the device allow-list", () => {
    const root = v1Tree("c1");
    const m = new CgroupV1(root, "ctr", true);
    m.create("c1", { memory: 64 << 20, memorySwap: 128 << 20, cpuQuota: 150000, cpuPeriod: 100000, cpuShares: 512, pidsLimit: 20 });
    const d = (c: string, f: string) => read(join(root, c, "ctr/c1", f));
    expect(d("memory", "memory.limit_in_bytes")).toBe(String(64 << 20));
    expect(d("memory", "memory.memsw.limit_in_bytes")).toBe(String(128 << 20));
    expect(d("cpu", "cpu.cfs_quota_us")).toBe("150000");
    expect(d("cpu", "cpu.cfs_period_us")).toBe("100000");
    expect(d("cpu", "cpu.shares")).toBe("512");
    expect(d("pids", "pids.max")).toBe("20");
    expect(d("devices", "devices.deny")).toBe("a");
    // The fake file keeps only the last write; the real one takes each rule.
    expect(d("devices", "devices.allow")).toBe(DEFAULT_DEVICE_RULES.at(-1)!);
    expect(d("cpuset", "cpuset.cpus")).toBe("0-1");
    expect(read(join(root, "cpuset/ctr/cpuset.mems"))).toBe("0");
  });

  test("privileged: no device restriction", () => {
    const root = v1Tree("c1");
    new CgroupV1(root, "ctr", true).create("c1", { devices: "all" });
    expect(read(join(root, "devices/ctr/c1/devices.deny"))).toBe("");
  });

  test("addProcess writes the pid into every controller", () => {
    const root = v1Tree("c1");
    const m = new CgroupV1(root, "ctr", true);
    m.addProcess("c1", 4242);
    for (const c of Object.keys(V1_FILES)) expect(read(join(root, c, "ctr/c1/cgroup.procs"))).toBe("4242");
  });

  test("stats, OOM kills, pids", () => {
    const root = v1Tree("c1");
    const m = new CgroupV1(root, "ctr", true);
    const w = (c: string, f: string, v: string) => writeFileSync(join(root, c, "ctr/c1", f), v);
    w("memory", "memory.usage_in_bytes", "1048576\n");
    w("memory", "memory.limit_in_bytes", "9223372036854771712\n");
    w("memory", "memory.stat", "cache 10\nrss 20\ntotal_inactive_file 4096\n");
    w("memory", "memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n");
    w("cpuacct", "cpuacct.usage", "123456789\n");
    w("cpuacct", "cpuacct.usage_percpu", "100 200 \n");
    w("pids", "pids.current", "3\n");
    w("pids", "pids.max", "max\n");
    w("pids", "cgroup.procs", "10\n11\n12\n");
    w("blkio", "blkio.throttle.io_service_bytes", "8:0 Read 100\n8:0 Write 50\n8:16 Read 1\nTotal 151\n");
    expect(m.stats("c1")).toEqual({
      cpuTotal: 123456789,
      cpuPercpu: [100, 200],
      memoryUsage: 1048576,
      memoryLimit: 0,
      memoryStats: { cache: 10, rss: 20, total_inactive_file: 4096 },
      pids: 3,
      pidsLimit: 0,
      blkioRead: 101,
      blkioWrite: 50,
    });
    expect(m.oomKills("c1")).toBe(2);
    expect(m.pids("c1")).toEqual([10, 11, 12]);
  });

  test("freeze and thaw wait for the state the kernel reports", async () => {
    const root = v1Tree("c1");
    const m = new CgroupV1(root, "ctr", true);
    await m.freeze("c1");
    expect(read(join(root, "freezer/ctr/c1/freezer.state"))).toBe("FROZEN");
    await m.thaw("c1");
    expect(read(join(root, "freezer/ctr/c1/freezer.state"))).toBe("THAWED");
  });

  test("list and remove", async () => {
    const root = v1Tree("c1");
    const m = new CgroupV1(root, "ctr", true);
    expect(m.list()).toEqual(["c1"]);
    expect(m.exists("c1")).toBe(true);
    await m.remove("c1");
    expect(m.exists("c1")).toBe(false);
    expect(existsSync(join(root, "memory/ctr/c1"))).toBe(false);
  });

  test("create makes missing directories (a real kernel fills them with files)", () => {
    const root = tmp();
    for (const c of ["memory", "pids"]) mkdirSync(join(root, c));
    new CgroupV1(root, "ctr", true).create("c2", { memory: 1 });
    expect(existsSync(join(root, "memory/ctr/c2"))).toBe(true);
    expect(existsSync(join(root, "pids/ctr/c2"))).toBe(true);
    expect(existsSync(join(root, "cpu/ctr/c2"))).toBe(false);
  });
});

describe("placement (HostConfig.CgroupParent, runc's cgroupfs rules)", () => {
  test("absolute from the root, relative below the daemon's own cgroup of that hierarchy; .. never climbs out", () => {
    const own = parseProcCgroup("12:memory:/sandbox/x\n3:cpu,cpuacct:/\n1:name=systemd:/init.scope\n0::/daemon.service\n");
    expect(own.get("memory")).toBe("/sandbox/x");
    expect(own.get("cpuacct")).toBe("/");
    expect(own.get("")).toBe("/daemon.service");
    expect(containerDir("/pods/a", "c1", "memory", own)).toBe("pods/a/c1");
    expect(containerDir("pods", "c1", "memory", own)).toBe("sandbox/x/pods/c1");
    expect(containerDir("pods", "c1", "cpu,cpuacct", own)).toBe("pods/c1");
    expect(containerDir("pods", "c1", "", own)).toBe("daemon.service/pods/c1");
    expect(cleanParent("../../x")).toBe("x");
    expect(cleanParent("/a/../../b/")).toBe("/b");
    expect(containerDir("/", "c1", "memory", own)).toBe("c1");
  });

  test("v1: a placed container's cgroup goes below its parent at every level (cpuset copied down); remove forgets it", async () => {
    const root = v1Tree("c1");
    const own = new Map([["memory", "/sb"]]);
    const m = new CgroupV1(root, "ctr", true, own);
    // What the kernel makes in each new cpuset directory: empty cpus and mems.
    for (const lvl of ["kube", "kube/pod1", "kube/pod1/c9"]) {
      mkdirSync(join(root, "cpuset", lvl), { recursive: true });
      for (const f of ["cpuset.cpus", "cpuset.mems"]) writeFileSync(join(root, "cpuset", lvl, f), "");
    }
    m.place("c9", "/kube/pod1");
    m.create("c9", { memory: 64 << 20 });
    expect(read(join(root, "cpuset/kube/pod1/c9/cpuset.cpus"))).toBe("0-1");
    expect(read(join(root, "cpuset/kube/cpuset.mems"))).toBe("0");
    m.place("c8", "rel");
    m.create("c8", {});
    expect(existsSync(join(root, "memory/sb/rel/c8"))).toBe(true);
    expect(existsSync(join(root, "pids/rel/c8"))).toBe(true);
    expect(m.exists("c9")).toBe(true);
    const view = m.containerView("c9");
    expect(view.version === 1 && view.mounts.find((x) => x.name === "pids")?.source).toBe(join(root, "pids/kube/pod1/c9"));
    await m.remove("c9");
    expect(existsSync(join(root, "memory/kube/pod1/c9"))).toBe(false);
    expect(m.exists("c9")).toBe(false);
  });
});

function v2Tree(id: string): string {
  const root = tmp();
  writeFileSync(join(root, "cgroup.controllers"), "cpuset cpu io memory hugetlb pids rdma misc\n");
  writeFileSync(join(root, "cgroup.subtree_control"), "");
  mkdirSync(join(root, "ctr", id), { recursive: true });
  writeFileSync(join(root, "ctr/cgroup.subtree_control"), "");
  for (const f of ["memory.max", "memory.swap.max", "cpu.max", "cpu.weight", "pids.max", "cgroup.procs", "cgroup.freeze", "memory.events", "cpu.stat", "memory.stat", "memory.current", "pids.current", "io.stat", "cgroup.events"]) {
    writeFileSync(join(root, "ctr", id, f), "");
  }
  return root;
}

describe("cgroup v2", () => {
  test("create enables controllers down the tree and applies limits", () => {
    const root = v2Tree("c1");
    const m = new CgroupV2(root, "ctr", true);
    m.create("c1", { memory: 64 << 20, memorySwap: 128 << 20, cpuQuota: 50000, cpuPeriod: 100000, cpuShares: 1024, pidsLimit: 7 });
    const d = (f: string) => read(join(root, "ctr/c1", f));
    // Fake files keep the last write: one "+controller" per write.
    expect(read(join(root, "cgroup.subtree_control"))).toBe("+io");
    expect(read(join(root, "ctr/cgroup.subtree_control"))).toBe("+io");
    expect(d("memory.max")).toBe(String(64 << 20));
    expect(d("memory.swap.max")).toBe(String(64 << 20));
    expect(d("cpu.max")).toBe("50000 100000");
    expect(d("cpu.weight")).toBe("39");
    expect(d("pids.max")).toBe("7");
  });

  test("unlimited swap", () => {
    const root = v2Tree("c1");
    new CgroupV2(root, "ctr", true).create("c1", { memory: 1 << 20, memorySwap: -1 });
    expect(read(join(root, "ctr/c1/memory.swap.max"))).toBe("max");
  });

  test("shares → weight as runc converts them", () => {
    expect(sharesToWeight(2)).toBe(1);
    expect(sharesToWeight(1024)).toBe(39);
    expect(sharesToWeight(262144)).toBe(10000);
  });

  test("stats, OOM kills from memory.events, pids", () => {
    const root = v2Tree("c1");
    const m = new CgroupV2(root, "ctr", true);
    const w = (f: string, v: string) => writeFileSync(join(root, "ctr/c1", f), v);
    w("cpu.stat", "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\n");
    w("memory.current", "2097152\n");
    w("memory.max", "max\n");
    w("memory.stat", "anon 100\nfile 200\ninactive_file 50\n");
    w("memory.events", "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n");
    w("pids.current", "2\n");
    w("pids.max", "64\n");
    w("io.stat", "8:0 rbytes=4096 wbytes=8192 rios=1 wios=2\n8:16 rbytes=1 wbytes=0\n");
    w("cgroup.procs", "5\n6\n");
    expect(m.stats("c1")).toEqual({
      cpuTotal: 1_500_000,
      cpuPercpu: [],
      memoryUsage: 2097152,
      memoryLimit: 0,
      memoryStats: { anon: 100, file: 200, inactive_file: 50 },
      pids: 2,
      pidsLimit: 64,
      blkioRead: 4097,
      blkioWrite: 8192,
    });
    expect(m.oomKills("c1")).toBe(1);
    expect(m.pids("c1")).toEqual([5, 6]);
  });

  test("freeze writes cgroup.freeze and waits for cgroup.events", async () => {
    const root = v2Tree("c1");
    const m = new CgroupV2(root, "ctr", true);
    writeFileSync(join(root, "ctr/c1/cgroup.events"), "populated 1\nfrozen 1\n");
    await m.freeze("c1");
    expect(read(join(root, "ctr/c1/cgroup.freeze"))).toBe("1");
    writeFileSync(join(root, "ctr/c1/cgroup.events"), "populated 1\nfrozen 0\n");
    await m.thaw("c1");
    expect(read(join(root, "ctr/c1/cgroup.freeze"))).toBe("0");
  });

  test("list and remove", async () => {
    const root = v2Tree("c1");
    const m = new CgroupV2(root, "ctr", true);
    expect(m.list()).toEqual(["c1"]);
    await m.remove("c1");
    expect(m.exists("c1")).toBe(false);
  });
});

describe("detection", () => {
  test("hybrid (v1 controllers + empty unified) → v1; cgroup2 root → v2", () => {
    expect(detectCgroupVersion(v1Tree("x"))).toBe(1);
    expect(detectCgroupVersion(v2Tree("x"))).toBe(2);
    expect(newCgroupManager(v2Tree("x")).version).toBe(2);
    expect(newCgroupManager(v1Tree("x")).version).toBe(1);
  });
});
