// The init's setup sequence against a fake Syscalls: what it mounts, in which
// order, which identity and capabilities it sets, and what it execs — no root.
import { afterEach, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execInContainer, InitError, startContainer, type InitContext } from "../../../src/engine/execdriver/init.ts";
import { MASKED_PATHS } from "../../../src/engine/execdriver/rootfs.ts";
import type { ContainerSpec } from "../../../src/engine/execdriver/types.ts";
import * as K from "../../../src/kernel/syscall-types.ts";
import { capMask, DOCKER_DEFAULT_CAPS, lastCap } from "../../../src/kernel/capabilities.ts";
import { Exec, FakeIO, FakeSyscalls } from "./fake-syscalls.ts";
import type { UsernsKernel } from "../../../src/engine/execdriver/userns-stage.ts";
import type { UsernsCommand } from "../../../src/kernel/userns.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A fake root with /bin/sh, passwd/group and a few /proc and /sys entries to mask. */
function fakeRoot(): string {
  const root = mkdtempSync(join(tmpdir(), "ctr-init-unit-"));
  dirs.push(root);
  for (const d of ["bin", "etc", "proc/sys", "sys/firmware", "dev/pts"]) mkdirSync(join(root, d), { recursive: true });
  writeFileSync(join(root, "bin/sh"), "");
  chmodSync(join(root, "bin/sh"), 0o755);
  writeFileSync(join(root, "proc/kcore"), "");
  writeFileSync(join(root, "etc/passwd"), "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\napp:x:1000:1000::/home/app:/bin/sh\n");
  writeFileSync(join(root, "etc/group"), "root:x:0:\nnogroup:x:65534:\napp:x:1000:\nextra:x:2000:app\n");
  return root;
}

function spec(root: string, over: Partial<ContainerSpec> = {}): ContainerSpec {
  return {
    id: "c1",
    rootfs: { type: "overlay", source: "overlay", options: ["lowerdir=/l", "upperdir=/u", "workdir=/w"] },
    rootfsPath: root,
    readonlyRootfs: false,
    hostname: "box",
    domainname: "",
    process: { args: ["sh", "-c", "echo hi"], env: ["A=1"], cwd: "/", user: "", terminal: false },
    capabilities: [...DOCKER_DEFAULT_CAPS],
    noNewPrivileges: true,
    privileged: false,
    mounts: [],
    network: { mode: "new" },
    cgroup: {},
    init: false,
    ...over,
  };
}

function ctxFor(sys: FakeSyscalls, io = new FakeIO()): InitContext {
  return { sys, io, path: sys.path };
}

function runStart(s: ContainerSpec, sys = new FakeSyscalls(), io = new FakeIO()): { sys: FakeSyscalls; io: FakeIO; exec: Exec } {
  try {
    startContainer(s, ctxFor(sys, io));
  } catch (e) {
    if (e instanceof Exec) return { sys, io, exec: e };
    throw e;
  }
  throw new Error("init returned without execve");
}

describe("ctr init: start", () => {
  test("namespaces first, handshake, then cgroup ns, root, pivot, restrictions, hostname, identity, execve", () => {
    const root = fakeRoot();
    const { sys, io, exec } = runStart(spec(root));
    expect(io.sent).toEqual(["ready"]);
    const names = sys.names();
    expect(sys.calls[0]).toEqual(["umask", 0]);
    expect(sys.calls[1]).toEqual(["unshare", K.CLONE_NEWNS | K.CLONE_NEWNET | K.CLONE_NEWIPC | K.CLONE_NEWUTS]);
    expect(sys.calls[2]).toEqual(["unshare", K.CLONE_NEWCGROUP]);
    // Propagation made rslave before anything is mounted.
    expect(sys.calls[3]).toEqual(["mount", null, "/", null, K.MS_REC | K.MS_SLAVE, null]);
    expect(sys.calls[4]).toEqual(["mountSpec", spec(root).rootfs, root]);
    const order = ["mountSpec", "pivotRoot", "umount2", "sethostname", "setgroups", "setresgid", "setresuid", "capset", "execve"];
    const idx = order.map((n) => names.indexOf(n));
    expect(idx).toEqual([...idx].sort((a, b) => a - b));
    expect(sys.calls.find((c) => c[0] === "pivotRoot")).toEqual(["pivotRoot", ".", "."]);
    expect(sys.calls.find((c) => c[0] === "umount2")).toEqual(["umount2", ".", K.MNT_DETACH]);
    expect(sys.calls.find((c) => c[0] === "sethostname")).toEqual(["sethostname", "box"]);
    expect(exec.path).toBe("/bin/sh");
    expect(exec.argv).toEqual(["sh", "-c", "echo hi"]);
    expect(exec.env).toEqual(["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "A=1", "HOME=/root"]);
    // The status and spec pipes close exactly when execve succeeds.
    expect(names.slice(-3)).toEqual(["setCloexec", "setCloexec", "execve"]);
  });

  test("/proc, /dev (devices, devpts newinstance, shm, mqueue), /sys read-only", () => {
    const root = fakeRoot();
    const { sys } = runStart(spec(root));
    const mounts = sys.calls.filter((c) => c[0] === "mount").map((c) => [c[2], c[3], c[4], c[5]]);
    expect(mounts).toContainEqual([join(root, "proc"), "proc", K.MS_NOSUID | K.MS_NODEV | K.MS_NOEXEC, null]);
    expect(mounts).toContainEqual([join(root, "dev"), "tmpfs", K.MS_NOSUID, "mode=755,size=65536k"]);
    expect(mounts).toContainEqual([join(root, "dev/pts"), "devpts", K.MS_NOSUID | K.MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620,gid=5"]);
    expect(mounts).toContainEqual([join(root, "dev/shm"), "tmpfs", K.MS_NOSUID | K.MS_NODEV | K.MS_NOEXEC, "mode=1777,size=67108864"]);
    expect(mounts).toContainEqual([join(root, "sys"), "sysfs", K.MS_NOSUID | K.MS_NODEV | K.MS_NOEXEC | K.MS_RDONLY, null]);
    const nodes = sys.calls.filter((c) => c[0] === "mknod").map((c) => [c[1], c[4], c[5]]);
    expect(nodes).toEqual([
      [join(root, "dev/null"), 1, 3], [join(root, "dev/zero"), 1, 5], [join(root, "dev/full"), 1, 7],
      [join(root, "dev/random"), 1, 8], [join(root, "dev/urandom"), 1, 9], [join(root, "dev/tty"), 5, 0],
    ]);
    expect(readlinkSync(join(root, "dev/ptmx"))).toBe("pts/ptmx");
  });

  test("/dev/shm as IpcMode says: ShmSize, a bind of a shareable donor's host tmpfs (or the host's), none", () => {
    const shmMounts = (shm: import("../../../src/engine/execdriver/types.ts").ShmSpec) => {
      const root = fakeRoot();
      const { sys } = runStart({ ...spec(root), shm });
      return sys.calls.filter((c) => c[0] === "mount" && c[2] === join(root, "dev/shm")).map((c) => [c[1], c[3], c[4], c[5]]);
    };
    expect(shmMounts({ kind: "tmpfs", size: 10485760 })).toEqual([["shm", "tmpfs", K.MS_NOSUID | K.MS_NODEV | K.MS_NOEXEC, "mode=1777,size=10485760"]]);
    expect(shmMounts({ kind: "bind", source: "/donor/mounts/shm" })).toEqual([["/donor/mounts/shm", null, K.MS_BIND | K.MS_REC, null]]);
    expect(shmMounts({ kind: "none" })).toEqual([]);
  });

  test("masked paths get /dev/null or a read-only tmpfs; read-only paths are remounted; after pivot_root", () => {
    const root = fakeRoot();
    const { sys } = runStart(spec(root, { readonlyRootfs: true }));
    const after = sys.calls.slice(sys.names().indexOf("pivotRoot"));
    const mounts = after.filter((c) => c[0] === "mount");
    expect(mounts).toContainEqual(["mount", "/dev/null", "/proc/kcore", null, K.MS_BIND, null]);
    expect(mounts).toContainEqual(["mount", "tmpfs", "/sys/firmware", "tmpfs", K.MS_RDONLY, null]);
    expect(mounts).toContainEqual(["mount", "/proc/sys", "/proc/sys", null, K.MS_BIND | K.MS_REC, null]);
    expect(mounts).toContainEqual(["mount", null, "/", null, K.MS_REMOUNT | K.MS_BIND | K.MS_RDONLY, null]);
    expect(MASKED_PATHS).toContain("/proc/keys");
  });

  test("privileged: nothing masked, sysfs writable, no bounding-set drops", () => {
    const root = fakeRoot();
    const { sys } = runStart(spec(root, { privileged: true, capabilities: ["CAP_SYS_ADMIN", ...DOCKER_DEFAULT_CAPS] }));
    expect(sys.calls.some((c) => c[0] === "mount" && c[2] === "/proc/kcore")).toBe(false);
    expect(sys.calls.some((c) => c[0] === "mount" && c[3] === "sysfs" && ((c[4] as number) & K.MS_RDONLY) !== 0)).toBe(false);
  });

  test("capabilities: bounding set drops everything else, capset keeps the list, no_new_privs last", () => {
    const root = fakeRoot();
    const { sys } = runStart(spec(root));
    const keep = capMask(DOCKER_DEFAULT_CAPS);
    const drops = sys.calls.filter((c) => c[0] === "prctl" && c[1] === K.PR_CAPBSET_DROP).map((c) => c[2] as number);
    const expected = [...Array(lastCap() + 1).keys()].filter((c) => !(keep & (1n << BigInt(c))));
    expect(drops).toEqual(expected);
    expect(sys.calls.find((c) => c[0] === "capset")).toEqual(["capset", keep, keep, 0n]);
    const nnp = sys.calls.findIndex((c) => c[0] === "prctl" && c[1] === K.PR_SET_NO_NEW_PRIVS);
    expect(nnp).toBeGreaterThan(sys.names().indexOf("capset"));
  });

  test("user by name: uid, gid, supplementary groups, HOME; capabilities cleared", () => {
    const root = fakeRoot();
    const { sys, exec } = runStart(spec(root, { process: { args: ["sh"], env: [], cwd: "/", user: "app", terminal: false } }));
    expect(sys.calls.find((c) => c[0] === "setgroups")).toEqual(["setgroups", [1000, 2000]]);
    expect(sys.calls.find((c) => c[0] === "setresgid")).toEqual(["setresgid", 1000]);
    expect(sys.calls.find((c) => c[0] === "setresuid")).toEqual(["setresuid", 1000]);
    expect(sys.calls.find((c) => c[0] === "capset")).toEqual(["capset", 0n, 0n, 0n]);
    expect(exec.env).toContain("HOME=/home/app");
  });

  test("uid:group with a numeric uid absent from passwd", () => {
    const root = fakeRoot();
    const { sys } = runStart(spec(root, { process: { args: ["sh"], env: [], cwd: "/", user: "4321:nogroup", terminal: false } }));
    expect(sys.calls.find((c) => c[0] === "setresuid")).toEqual(["setresuid", 4321]);
    expect(sys.calls.find((c) => c[0] === "setresgid")).toEqual(["setresgid", 65534]);
  });

  test("an unknown user name fails before any identity change", () => {
    const root = fakeRoot();
    const sys = new FakeSyscalls();
    expect(() => startContainer(spec(root, { process: { args: ["sh"], env: [], cwd: "/", user: "ghost", terminal: false } }), ctxFor(sys))).toThrow(/unable to find user ghost/);
    expect(sys.names()).not.toContain("setresuid");
  });

  test("a missing command: Docker's message, 127, nothing exec'd", () => {
    const root = fakeRoot();
    const sys = new FakeSyscalls();
    let err: unknown;
    try {
      startContainer(spec(root, { process: { args: ["nope"], env: [], cwd: "/", user: "", terminal: false } }), ctxFor(sys));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InitError);
    expect((err as InitError).message).toBe('exec: "nope": executable file not found in $PATH');
    expect((err as InitError).code).toBe(127);
    expect(sys.names()).not.toContain("execve");
  });

  test("execve EACCES maps to 126 permission denied", () => {
    const root = fakeRoot();
    const sys = new FakeSyscalls();
    sys.failOn.set("execve", { errno: 13, message: "Permission denied" });
    expect(() => startContainer(spec(root), ctxFor(sys))).toThrow('exec: "sh": permission denied');
  });

  test("the daemon saying anything but go aborts before the user's mounts, pivot_root and the command", () => {
    const root = fakeRoot();
    const sys = new FakeSyscalls();
    const bind = { type: "bind" as const, source: root, destination: "/data", options: ["rbind"] };
    expect(() => startContainer(spec(root, { mounts: [bind] }), ctxFor(sys, new FakeIO(["abort"])))).toThrow(/aborted/);
    // rootfs, /proc, /dev and /sys go up while the daemon plugs the network (in the init's own mount namespace).
    expect(sys.names()).toContain("mountSpec");
    // The bind of the user's /data (source = root; the root's own bind onto itself is not it) waits for go.
    expect(sys.calls.filter((c) => c[0] === "mount" && c[1] === root && c[2] !== root)).toEqual([]);
    for (const n of ["pivotRoot", "sethostname", "execve"]) expect(sys.names()).not.toContain(n);
  });

  test("a mount that fails before go is told after go (the daemon reads the error once it has written go)", () => {
    const root = fakeRoot();
    const sys = new FakeSyscalls();
    sys.failOn.set("mountSpec", { errno: 1, message: "Operation not permitted" });
    const io = new FakeIO(["go", "after"]);
    expect(() => startContainer(spec(root), ctxFor(sys, io))).toThrow(/Operation not permitted/);
    expect(io.receive()).toBe("after");
    expect(io.sent).toEqual(["ready"]);
  });

  test("host network and uts: not unshared, no hostname set", () => {
    const root = fakeRoot();
    const { sys } = runStart(spec(root, { network: { mode: "host" }, uts: { mode: "host" } }));
    expect(sys.calls[1]).toEqual(["unshare", K.CLONE_NEWNS | K.CLONE_NEWIPC]);
    expect(sys.names()).not.toContain("sethostname");
  });

  test("joining another container's netns: setns with CLONE_NEWNET", () => {
    const root = fakeRoot();
    const nsFile = join(root, "netns");
    writeFileSync(nsFile, "");
    const { sys } = runStart(spec(root, { network: { mode: "join", path: nsFile } }));
    expect(sys.calls.some((c) => c[0] === "setns" && c[2] === K.CLONE_NEWNET)).toBe(true);
  });

  test("bind mounts resolve inside the root and read-only binds are remounted", () => {
    const root = fakeRoot();
    const src = join(root, "..", `src-${Date.now()}`);
    mkdirSync(src);
    dirs.push(src);
    const { sys } = runStart(spec(root, { mounts: [{ destination: "/data", type: "bind", source: src, options: ["rbind", "ro"] }, { destination: "/scratch", type: "tmpfs", source: "tmpfs", options: ["nosuid", "size=1m"] }] }));
    const mounts = sys.calls.filter((c) => c[0] === "mount");
    expect(mounts).toContainEqual(["mount", src, join(root, "data"), null, K.MS_BIND | K.MS_REC, null]);
    expect(mounts).toContainEqual(["mount", null, join(root, "data"), null, K.MS_REMOUNT | K.MS_BIND | K.MS_RDONLY, null]);
    expect(mounts).toContainEqual(["mount", "tmpfs", join(root, "scratch"), "tmpfs", K.MS_NOSUID, "size=1m"]);
  });

  test("terminal: pty opened in the container, lent to the daemon, bound on /dev/console, made the controlling tty", () => {
    const root = fakeRoot();
    writeFileSync(join(root, "dev/pts/0"), "");
    const io = new FakeIO(["go", "ok"]);
    const { sys } = runStart(spec(root, { process: { args: ["sh"], env: [], cwd: "/", user: "", terminal: true } }), new FakeSyscalls(), io);
    expect(io.sent).toEqual(["ready", "pty 99"]);
    expect(sys.calls).toContainEqual(["mount", "/dev/pts/0", "/dev/console", null, K.MS_BIND, null]);
    const names = sys.names();
    expect(names.indexOf("setsid")).toBeLessThan(names.indexOf("setControllingTty"));
    expect(sys.calls.filter((c) => c[0] === "dup2").map((c) => c[2])).toEqual([0, 1, 2]);
    expect(sys.calls).toContainEqual(["close", 99]);
  });

  test("a missing working directory is created, as Docker does", () => {
    const root = fakeRoot();
    const { sys } = runStart(spec(root, { process: { args: ["sh"], env: [], cwd: "/work/dir", user: "", terminal: false } }));
    expect(existsSync(join(root, "work/dir"))).toBe(true);
    expect(sys.calls).toContainEqual(["chdir", "/work/dir"]);
  });
});

describe("ctr init: exec", () => {
  test("private fs struct, then setns into ipc uts net cgroup and mnt (last), then identity and execve", () => {
    const root = fakeRoot();
    const sys = new FakeSyscalls();
    sys.root = root; // exec lands in the container's root through setns(mnt)
    const io = new FakeIO(["go"]);
    let exec: Exec | null = null;
    try {
      execInContainer(process.pid, { args: ["sh", "-c", "id"], env: ["PATH=/bin"], cwd: "/", user: "nobody", terminal: false, capabilities: [...DOCKER_DEFAULT_CAPS], noNewPrivileges: true }, { sys, io, path: sys.path });
    } catch (e) {
      if (e instanceof Exec) exec = e;
      else throw e;
    }
    expect(exec?.path).toBe("/bin/sh");
    expect(sys.calls[0]).toEqual(["unshare", K.CLONE_FS]);
    const types = sys.calls.filter((c) => c[0] === "setns").map((c) => c[2]);
    expect(types).toEqual([K.CLONE_NEWIPC, K.CLONE_NEWUTS, K.CLONE_NEWNET, K.CLONE_NEWCGROUP, K.CLONE_NEWNS]);
    expect(io.sent).toEqual(["ready"]);
    expect(sys.calls.find((c) => c[0] === "setresuid")).toEqual(["setresuid", 65534]);
    expect(sys.names()).not.toContain("mountSpec");
  });
});

test("capabilities the daemon lacks are not asked for", () => {
  const root = fakeRoot();
  const sys = new FakeSyscalls();
  sys.permitted = capMask(["CAP_CHOWN", "CAP_KILL"]);
  const { sys: s } = runStart(spec(root), sys);
  const want = capMask(["CAP_CHOWN", "CAP_KILL"]);
  expect(s.calls.find((c) => c[0] === "capset")).toEqual(["capset", want, want, 0n]);
});

describe("ctr init: a user namespace of its own", () => {
  const map = { uidMap: [{ containerID: 0, hostID: 100000, size: 65536 }], gidMap: [{ containerID: 0, hostID: 200000, size: 65536 }] };
  /** kernel/userns.ts as a recorder: the holder's namespaces are fds 70+, the command is pid 42 and exits 3. */
  function fakeKernel() {
    const calls: unknown[][] = [];
    let reaped = false;
    const k: UsernsKernel = {
      prepare: () => void calls.push(["prepare"]),
      createUserns: (u, g, flags) => {
        calls.push(["createUserns", u, g, flags]);
        return { userns: 69, owned: new Map([[K.CLONE_NEWNET, 70], [K.CLONE_NEWUTS, 71]]) };
      },
      idmapInPlace: (p, fd) => void calls.push(["idmapInPlace", p, fd]),
      owningUserns: (p) => (calls.push(["owningUserns", p]), p.endsWith("/uts") ? 68 : null),
      spawnInUserns: (c) => (calls.push(["spawnInUserns", c]), 42),
      reapAny: () => (reaped ? null : ((reaped = true), { pid: 42, exitCode: 3 })),
    };
    return { k, calls };
  }

  test("holder first (net/uts inside it), mount ns ours, layers idmapped after rslave, command forked, init returns its status", async () => {
    const root = fakeRoot();
    const lower = mkdtempSync(join(tmpdir(), "ctr-init-lower-"));
    dirs.push(lower);
    const sys = new FakeSyscalls();
    const { k, calls } = fakeKernel();
    const s = spec(root, { userns: map, ipc: { mode: "host" }, rootfs: { type: "overlay", source: "overlay", options: [`lowerdir=${lower}`] } });
    const status = await (startContainer(s, { ...ctxFor(sys), userns: k }) as Promise<number>);
    expect(status).toBe(3);
    expect(calls[1]).toEqual(["createUserns", map.uidMap, map.gidMap, K.CLONE_NEWNET | K.CLONE_NEWUTS]);
    expect(sys.calls.slice(1, 6)).toEqual([["setns", 70, K.CLONE_NEWNET], ["close", 70], ["setns", 71, K.CLONE_NEWUTS], ["close", 71], ["unshare", K.CLONE_NEWNS]]);
    expect(calls[2]).toEqual(["idmapInPlace", lower, 69]);
    const names = sys.names();
    expect(names.indexOf("mountSpec")).toBeGreaterThan(names.indexOf("mount"));
    // No identity change or execve in init itself: the forked command does them inside the namespace.
    for (const n of ["setresuid", "capset", "execve", "setsid"]) expect(names).not.toContain(n);
    const cmd = calls[3]![1] as UsernsCommand;
    expect(cmd).toMatchObject({ userns: 69, path: "/bin/sh", argv: ["sh", "-c", "echo hi"], uid: 0, gid: 0, groups: [0], keep: capMask(DOCKER_DEFAULT_CAPS), lastCap: lastCap(), noNewPrivileges: true, tty: false });
    // The daemon's pipes close once the command runs.
    expect(sys.calls.slice(-3)).toEqual([["close", 69], ["close", 3], ["close", 4]]);
  });

  test("exec joins the user namespace that owns the container's uts namespace", async () => {
    const sys = new FakeSyscalls();
    sys.root = fakeRoot();
    const { k, calls } = fakeKernel();
    const e = { args: ["sh"], env: ["PATH=/bin"], cwd: "/", user: "", terminal: false, capabilities: [], noNewPrivileges: false, userns: true };
    expect(await execInContainer(process.pid, e, { ...ctxFor(sys, new FakeIO(["go"])), userns: k })).toBe(3);
    expect(calls.slice(0, 2)).toEqual([["prepare"], ["owningUserns", `/proc/${process.pid}/ns/uts`]]);
    expect((calls[2]![1] as UsernsCommand).userns).toBe(68);
  });
});
