// User namespaces for `ctr init` (engine/execdriver/userns-stage.ts): a
// holder process that creates the container's user namespace (and the
// net/uts/ipc namespaces it owns), idmapped mounts of the image layers, and
// the fork that joins the user namespace and execs the command.
//
// Why C at all: unshare(CLONE_NEWUSER) and setns() into a user namespace are
// refused to a multi-threaded caller (unshare(2)/setns(2) EINVAL), and a Bun
// process always has several threads. userns-helper.c clone()s a
// single-threaded child and runs only raw system calls there. It is compiled
// at run time by bun:ffi's cc (TinyCC inside Bun, ~5–15 ms) from the source
// embedded in the binary as text; only remapped containers pay for it.
import { ptr } from "bun:ffi";
import { closeSync, openSync, readFileSync, readSync, statSync, writeFileSync, writeSync } from "node:fs";
import source from "./userns-helper.c" with { type: "text" };
import { check, cstr, libc, SyscallError } from "./libc.ts";
import { pipe } from "./fds.ts";
import { nativeSyscallNumber } from "./seccomp/compile.ts";
import { compileEmbedded, syscallNumbers } from "./embedded-c.ts";
import { pidfdOpen } from "./syscalls.ts";

/** One line of /proc/<pid>/uid_map: `size` ids from `containerID` inside are `hostID` … outside. */
export interface IdRange {
  containerID: number;
  hostID: number;
  size: number;
}

const HELPER_CALLS = ["clone", "read", "write", "unshare", "setns", "exit_group", "prctl", "setgroups", "setresgid", "setresuid", "capset", "execve", "setsid", "ioctl", "rt_sigprocmask", "close"] as const;


type Helper = {
  nr: BigInt64Array;
  holder(nr: unknown, goRd: number, goWr: number, doneWr: number, flags: bigint): number;
  spawn(nr: unknown, params: unknown): number;
};
let helper: Helper | null = null;

/** Compiles userns-helper.c once per process. */
function load(): Helper {
  if (helper) return helper;
  const lib = compileEmbedded("userns-helper.c", source, {
    ctr_userns_holder: { args: ["ptr", "i32", "i32", "i32", "i64"], returns: "i32" },
    ctr_spawn_in_userns: { args: ["ptr", "ptr"], returns: "i32" },
  });
  helper = {
    nr: syscallNumbers(HELPER_CALLS),
    holder: (n, g, w, d, f) => lib.symbols.ctr_userns_holder(n as never, g, w, d, f),
    spawn: (n, p) => lib.symbols.ctr_spawn_in_userns(n as never, p as never),
  };
  return helper;
}

/** Compiles the helper now (before pivot_root hides /tmp and libc headers from us). */
export function prepare(): void {
  load();
}

function mapText(r: readonly IdRange[]): string {
  return r.map((m) => `${m.containerID} ${m.hostID} ${m.size}\n`).join("");
}

function sys(name: string, ...a: number[]): number {
  const n = nativeSyscallNumber(name);
  if (n === undefined) throw new Error(`no syscall number for ${name}`);
  const [x = 0, y = 0, z = 0, w = 0, v = 0] = a;
  return check(name, libc.symbols.syscall(n, x, y, z, w, v));
}

export interface CreatedUserns {
  /** The user namespace (O_RDONLY descriptor of /proc/<holder>/ns/user). */
  userns: number;
  /** Namespaces made by the holder inside it, by CLONE_NEW* flag. */
  owned: Map<number, number>;
}

const NS_NAMES: Record<number, string> = { 0x40000000: "net", 0x04000000: "uts", 0x08000000: "ipc" };

/**
 * A new user namespace with these maps, plus the namespaces in `nsflags`
 * (any of CLONE_NEWNET|CLONE_NEWUTS|CLONE_NEWIPC) owned by it. The holder
 * process is gone when this returns; the descriptors keep the namespaces.
 */
export function createUserns(uidMap: readonly IdRange[], gidMap: readonly IdRange[], nsflags: number): CreatedUserns {
  const h = load();
  const go = pipe();
  const done = pipe();
  let pid = -1;
  try {
    pid = h.holder(ptr(h.nr), go.read, go.write, done.write, BigInt(nsflags));
    if (pid < 0) throw new SyscallError("clone(CLONE_NEWUSER)", -pid);
    const proc = `/proc/${procfsPid(pid)}`;
    writeFileSync(`${proc}/uid_map`, mapText(uidMap));
    writeFileSync(`${proc}/gid_map`, mapText(gidMap));
    writeSync(go.write, "g");
    const rc = Buffer.alloc(4);
    if (readSync(done.read, rc, 0, 4, null) !== 4) throw new Error("user namespace holder exited early");
    if (rc.readInt32LE(0) !== 0) throw new SyscallError("unshare in the user namespace", rc.readInt32LE(0));
    const userns = openSync(`${proc}/ns/user`, "r");
    const owned = new Map<number, number>();
    for (const [flag, name] of Object.entries(NS_NAMES)) if (nsflags & Number(flag)) owned.set(Number(flag), openSync(`${proc}/ns/${name}`, "r"));
    return { userns, owned };
  } finally {
    closeSync(go.write); // EOF: the holder exits
    for (const fd of [go.read, done.read, done.write]) closeSync(fd);
    if (pid > 0) waitFor(pid);
  }
}

/**
 * `pid` (as our pid namespace numbers it) as the mounted /proc numbers it:
 * `ctr init` is pid 1 of a new pid namespace but still sees the host's /proc
 * until it mounts the container's, so /proc/<pid> would be another process.
 * A pidfd's fdinfo gives the pid in the procfs' own namespace.
 */
function procfsPid(pid: number): number {
  const fd = pidfdOpen(pid);
  try {
    const m = /^Pid:\s+(\d+)$/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, "utf8"));
    if (!m) throw new Error(`no Pid in the fdinfo of a pidfd for ${pid}`);
    return Number(m[1]);
  } finally {
    closeSync(fd);
  }
}

function waitFor(pid: number): void {
  const status = Buffer.alloc(4);
  for (;;) {
    try {
      sys("wait4", pid, ptr(status), 0, 0);
      return;
    } catch (e) {
      if ((e as SyscallError).errno !== 4) return; // EINTR: again
    }
  }
}

/** One child reaped (any: orphans re-parent to pid 1), or null when none has exited. */
export function reapAny(): { pid: number; exitCode: number } | null {
  const status = Buffer.alloc(4);
  let pid: number;
  try {
    pid = sys("wait4", -1, ptr(status), 1 /* WNOHANG */, 0);
  } catch {
    return null; // ECHILD
  }
  if (pid === 0) return null;
  const s = status.readInt32LE(0);
  const sig = s & 0x7f;
  return { pid, exitCode: sig === 0 ? (s >> 8) & 0xff : 128 + sig };
}

const AT_FDCWD = -100;
const OPEN_TREE_CLONE = 1;
const O_CLOEXEC = 0o2000000;
const AT_EMPTY_PATH = 0x1000;
const AT_RECURSIVE = 0x8000;
const MOUNT_ATTR_IDMAP = 0x00100000n;
const MOVE_MOUNT_F_EMPTY_PATH = 0x4;

/**
 * Replaces the directory at `path` (in this mount namespace) by an idmapped
 * view of itself: on-disk ids shown (and written) through the user
 * namespace's maps, so the container's root sees the image's root-owned files
 * as its own (mount_setattr(2) MOUNT_ATTR_IDMAP; overlayfs takes idmapped
 * lower layers since Linux 5.19).
 */
export function idmapInPlace(path: string, userns: number): void {
  const p = cstr(path);
  const empty = cstr("");
  const fd = sys("open_tree", AT_FDCWD, ptr(p), OPEN_TREE_CLONE | O_CLOEXEC | AT_RECURSIVE);
  try {
    const attr = Buffer.alloc(32); // struct mount_attr { u64 attr_set, attr_clr, propagation, userns_fd }
    attr.writeBigUInt64LE(MOUNT_ATTR_IDMAP, 0);
    attr.writeBigUInt64LE(BigInt(userns), 24);
    sys("mount_setattr", fd, ptr(empty), AT_EMPTY_PATH, ptr(attr), 32);
    sys("move_mount", fd, ptr(empty), AT_FDCWD, ptr(p), MOVE_MOUNT_F_EMPTY_PATH);
  } finally {
    closeSync(fd);
  }
}

const NS_GET_USERNS = 0xb701;

/** The user namespace that owns the namespace file at `path` (ioctl_ns(2) NS_GET_USERNS), or null if it is ours. */
export function owningUserns(path: string): number | null {
  const fd = openSync(path, "r");
  try {
    const u = sys("ioctl", fd, NS_GET_USERNS, 0);
    if (statSync(`/proc/self/fd/${u}`).ino === statSync("/proc/self/ns/user").ino) {
      closeSync(u);
      return null;
    }
    return u;
  } catch {
    return null; // EPERM: owned by a namespace above ours (not a container's)
  } finally {
    closeSync(fd);
  }
}

export interface UsernsCommand {
  userns: number;
  path: string;
  argv: string[];
  env: string[];
  uid: number;
  gid: number;
  groups: number[];
  /** The capabilities the command keeps (bounding set; and effective/permitted when uid is 0). */
  keep: bigint;
  lastCap: number;
  noNewPrivileges: boolean;
  seccomp?: Uint8Array;
  /** Make fd 0 the controlling terminal of a new session. */
  tty: boolean;
}

const STAGES = ["", "setns(user)", "controlling terminal", "drop bounding set", "seccomp", "setgroups", "setresgid", "setresuid", "capset", "no_new_privs", "execve"];

function cArray(items: string[], keep: Buffer[]): BigInt64Array {
  const arr = new BigInt64Array(items.length + 1);
  items.forEach((s, i) => {
    const b = cstr(s);
    keep.push(b);
    arr[i] = BigInt(ptr(b));
  });
  return arr;
}

/** Forks the command into the user namespace; returns its pid once execve succeeded. */
export function spawnInUserns(c: UsernsCommand): number {
  const h = load();
  const err = pipe();
  const keep: Buffer[] = [];
  const path = cstr(c.path);
  const argv = cArray(c.argv, keep);
  const envp = cArray(c.env, keep);
  const groups = new Uint32Array(Math.max(1, c.groups.length));
  c.groups.forEach((g, i) => (groups[i] = g));
  const hdr = Buffer.alloc(8);
  hdr.writeUInt32LE(0x20080522, 0); // _LINUX_CAPABILITY_VERSION_3
  const data = Buffer.alloc(24);
  const set = c.uid === 0 ? c.keep : 0n;
  for (const k of [0, 1]) {
    // effective and permitted; inheritable stays empty (CVE-2022-24769)
    data.writeUInt32LE(Number(set & 0xffffffffn), k * 4);
    data.writeUInt32LE(Number((set >> 32n) & 0xffffffffn), 12 + k * 4);
  }
  let prog: Buffer | null = null;
  let fprog: Buffer | null = null;
  if (c.seccomp) {
    prog = Buffer.from(c.seccomp);
    fprog = Buffer.alloc(16); // struct sock_fprog { u16 len; sock_filter *filter }
    fprog.writeUInt16LE(prog.length / 8, 0);
    fprog.writeBigUInt64LE(BigInt(ptr(prog)), 8);
  }
  const p = BigInt64Array.from(
    [c.userns, err.write, ptr(path), ptr(argv), ptr(envp), c.uid, c.gid, c.groups.length, ptr(groups), 0, c.lastCap, c.noNewPrivileges ? 1 : 0, fprog ? ptr(fprog) : 0, c.tty ? 1 : 0, ptr(hdr), ptr(data)].map((v) => BigInt(v)),
  );
  p[9] = BigInt.asIntN(64, c.keep);
  let pid: number;
  try {
    pid = h.spawn(ptr(h.nr), ptr(p));
  } finally {
    closeSync(err.write);
  }
  try {
    if (pid < 0) throw new SyscallError("clone", -pid);
    const msg = Buffer.alloc(8);
    const n = readSync(err.read, msg, 0, 8, null);
    if (n === 8) {
      waitFor(pid);
      throw new SyscallError(STAGES[msg.readInt32LE(0)] ?? "start", msg.readInt32LE(4), c.path);
    }
    return pid;
  } finally {
    closeSync(err.read);
    void keep;
  }
}
