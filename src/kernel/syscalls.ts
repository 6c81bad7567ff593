// The real Syscalls (see syscall-types.ts) over bun:ffi. Namespace, identity
// and capability changes made here apply to the calling thread only — which is
// what `ctr init` wants: it runs everything on its main thread and ends in
// execve(2), which kills the other (Bun) threads. See execdriver/init.ts.
import { dlopen, FFIType, ptr } from "bun:ffi";
import { readFileSync } from "node:fs";
import { check, cstr, libc } from "./libc.ts";
import { mknod } from "./fs-ffi.ts";
import { mountSpec } from "./mount.ts";
import { openPty } from "./pty.ts";
import type { Syscalls } from "./syscall-types.ts";

export * from "./syscall-types.ts";

const { i32, u32, u64, ptr: P } = FFIType;

const c = dlopen("libc.so.6", {
  chdir: { args: [P], returns: i32 },
  sethostname: { args: [P, u64], returns: i32 },
  setdomainname: { args: [P, u64], returns: i32 },
  execve: { args: [P, P, P], returns: i32 },
  prctl: { args: [i32, u64, u64, u64, u64], returns: i32 },
  capset: { args: [P, P], returns: i32 },
  setsid: { args: [], returns: i32 },
  ioctl: { args: [i32, u64, P], returns: i32 },
  close: { args: [i32], returns: i32 },
  umask: { args: [u32], returns: u32 },
  kill: { args: [i32, i32], returns: i32 },
  fcntl: { args: [i32, i32, i32], returns: i32 },
  dup2: { args: [i32, i32], returns: i32 },
  waitid: { args: [i32, i32, P, i32], returns: i32 },
  waitpid: { args: [i32, P, i32], returns: i32 },
  setrlimit: { args: [i32, P], returns: i32 },
});
const s = c.symbols;

// Raw syscall numbers. setres[ug]id/setgroups go through syscall(2) rather than
// glibc's wrappers on purpose: glibc broadcasts those to every thread of the
// process (the setxid signal dance); we only want this thread, which is about
// to execve (runc does the same with unix.RawSyscall in its init).
const NR: Record<string, { pivot_root: number; setgroups: number; setresuid: number; setresgid: number; pidfd_open: number; pidfd_getfd: number }> = {
  x64: { pivot_root: 155, setgroups: 116, setresuid: 117, setresgid: 119, pidfd_open: 434, pidfd_getfd: 438 },
  arm64: { pivot_root: 41, setgroups: 159, setresuid: 147, setresgid: 149, pidfd_open: 434, pidfd_getfd: 438 },
};
function nr(name: keyof (typeof NR)["x64"]): number {
  const table = NR[process.arch];
  if (!table) throw new Error(`${name}: unsupported architecture ${process.arch}`);
  return table[name];
}
function raw(name: keyof (typeof NR)["x64"], a = 0, b = 0, d = 0): number {
  return check(name, libc.symbols.syscall(nr(name), a, b, d, 0, 0));
}

const nul = (v: string | null) => (v === null ? null : cstr(v));

export function unshare(flags: number): void {
  check("unshare", libc.symbols.unshare(flags));
}
export function setns(fd: number, nstype: number): void {
  check("setns", libc.symbols.setns(fd, nstype));
}
export function mount(source: string | null, target: string, fstype: string | null, flags: number, data: string | null): void {
  const a = nul(source), b = cstr(target), t = nul(fstype), d = nul(data);
  check("mount", libc.symbols.mount(a, b, t, BigInt(flags), d), target); // buffers, not ptr() numbers: see fs-ffi.ts
}
export function umount2(target: string, flags: number): void {
  const b = cstr(target);
  check("umount2", libc.symbols.umount2(b, flags), target);
}
export function chdir(path: string): void {
  const b = cstr(path);
  check("chdir", s.chdir(b), path);
}
export function sethostname(name: string): void {
  const b = Buffer.from(name + "\0");
  check("sethostname", s.sethostname(ptr(b), name.length));
}
export function setdomainname(name: string): void {
  const b = Buffer.from(name + "\0");
  check("setdomainname", s.setdomainname(ptr(b), name.length));
}
/** glibc has no pivot_root wrapper. */
export function pivotRoot(newRoot: string, putOld: string): void {
  const a = cstr(newRoot), b = cstr(putOld);
  raw("pivot_root", ptr(a), ptr(b));
}

/** A NULL-terminated array of C string pointers; `keep` holds the buffers alive. */
function cArray(items: string[], keep: Buffer[]): Buffer {
  const arr = Buffer.alloc((items.length + 1) * 8);
  items.forEach((it, i) => {
    const b = cstr(it);
    keep.push(b);
    arr.writeBigUInt64LE(BigInt(ptr(b)), i * 8);
  });
  return arr;
}

export function execve(path: string, argv: string[], env: string[]): never {
  const keep: Buffer[] = [];
  const p = cstr(path);
  const a = cArray(argv, keep);
  const e = cArray(env, keep);
  // The arrays hold raw pointers into `keep`'s buffers; hang them on an argument
  // the call holds, so no collection can free them before execve reads them.
  (a as Buffer & { keep?: Buffer[] }).keep = keep;
  check("execve", s.execve(p, a, e), path);
  throw new Error("execve returned");
}

export function prctl(op: number, a = 0, b = 0): number {
  return check("prctl", s.prctl(op, a, b, 0, 0));
}

/** capset(2) with the v3 header: each 64-bit set split over data[0] (low) and data[1] (high). */
export function capset(effective: bigint, permitted: bigint, inheritable: bigint): void {
  const hdr = Buffer.alloc(8);
  hdr.writeUInt32LE(0x20080522, 0); // _LINUX_CAPABILITY_VERSION_3, pid 0 = this thread
  const data = Buffer.alloc(24);
  [effective, permitted, inheritable].forEach((v, k) => {
    data.writeUInt32LE(Number(v & 0xffffffffn), k * 4);
    data.writeUInt32LE(Number((v >> 32n) & 0xffffffffn), 12 + k * 4);
  });
  check("capset", s.capset(hdr, data));
}

export function permittedCaps(): bigint {
  const m = /^CapPrm:\s+([0-9a-f]+)$/m.exec(readFileSync("/proc/thread-self/status", "utf8"));
  return m ? BigInt(`0x${m[1]}`) : 0n;
}

export function setgroups(gids: number[]): void {
  const b = Buffer.alloc(Math.max(4, gids.length * 4));
  gids.forEach((g, i) => b.writeUInt32LE(g, i * 4));
  raw("setgroups", gids.length, ptr(b));
}
export function setresgid(g: number): void {
  raw("setresgid", g, g, g);
}
export function setresuid(u: number): void {
  raw("setresuid", u, u, u);
}
export function setsid(): void {
  check("setsid", s.setsid());
}
export function close(fd: number): void {
  s.close(fd);
}
export function dup2(oldFd: number, newFd: number): void {
  check("dup2", s.dup2(oldFd, newFd));
}
const F_SETFD = 2, FD_CLOEXEC = 1;
export function setCloexec(fd: number): void {
  check("fcntl(F_SETFD)", s.fcntl(fd, F_SETFD, FD_CLOEXEC));
}
export function umask(m: number): number {
  return s.umask(m);
}
export function kill(pid: number, sig: number): void {
  check("kill", s.kill(pid, sig), String(pid));
}
/** A pidfd for `pid` (Linux 5.3+): signals that cannot hit a recycled pid. */
export function pidfdOpen(pid: number): number {
  return raw("pidfd_open", pid, 0);
}

/**
 * A duplicate of another process's fd (pidfd_getfd, Linux 5.6). How the daemon
 * takes the pty master `ctr init` opened inside the container's devpts — the
 * job runc's console socket does with SCM_RIGHTS. Re-opening /proc/<pid>/fd/N
 * would not do: for ptmx that allocates a fresh pty.
 */
export function pidfdGetfd(pidfd: number, fd: number): number {
  return raw("pidfd_getfd", pidfd, fd, 0);
}

const P_ALL = 0, WNOHANG = 1, WEXITED = 4, WNOWAIT = 0x01000000;
/**
 * Reaps one exited child other than `keep` (whose status its owner, Bun,
 * collects). Peeks with WNOWAIT first so `keep`'s status is never stolen.
 * Returns the reaped pid, or null when there is nothing (else) to reap.
 */
export function reapOneExcept(keep: number): number | null {
  const info = Buffer.alloc(128); // siginfo_t; si_pid at offset 16 on 64-bit
  if (s.waitid(P_ALL, 0, ptr(info), WEXITED | WNOHANG | WNOWAIT) !== 0) return null;
  const pid = info.readInt32LE(16);
  if (pid === 0 || pid === keep) return null;
  s.waitpid(pid, null, WNOHANG);
  return pid;
}

const PR_SET_SECCOMP = 22;
const SECCOMP_MODE_FILTER = 2;
/**
 * Installs a compiled seccomp program on the calling thread (prctl(2)
 * PR_SET_SECCOMP). Without no_new_privs the kernel wants CAP_SYS_ADMIN
 * (seccomp(2) EACCES); the filter is inherited across execve. Lives in this
 * file's dlopen: each extra dlopen costs `ctr init` a trampoline compile.
 */
export function loadSeccomp(program: Uint8Array): void {
  if (program.length % 8 !== 0 || program.length === 0) throw new Error(`seccomp: bad program length ${program.length}`);
  const insns = Buffer.from(program.buffer, program.byteOffset, program.length);
  // struct sock_fprog { unsigned short len; struct sock_filter *filter; } — pointer at offset 8 on 64-bit.
  const fprog = Buffer.alloc(16);
  fprog.writeUInt16LE(program.length / 8, 0);
  fprog.writeBigUInt64LE(BigInt(ptr(insns)), 8);
  check("prctl(PR_SET_SECCOMP)", s.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ptr(fprog), 0, 0));
}

const RLIM_INFINITY = 0xffffffffffffffffn;
/** setrlimit(2): struct rlimit { rlim_t cur, max; } — two u64 on 64-bit. -1 = RLIM_INFINITY. */
export function setrlimit(resource: number, soft: number, hard: number): void {
  const b = Buffer.alloc(16);
  b.writeBigUInt64LE(soft < 0 ? RLIM_INFINITY : BigInt(soft), 0);
  b.writeBigUInt64LE(hard < 0 ? RLIM_INFINITY : BigInt(hard), 8);
  check("setrlimit", s.setrlimit(resource, ptr(b)), String(resource));
}

const TIOCSCTTY = 0x540e;
export function setControllingTty(fd: number): void {
  check("ioctl(TIOCSCTTY)", s.ioctl(fd, TIOCSCTTY, null));
}
export function ioctl(fd: number, req: number, arg: Buffer | null): number {
  return check("ioctl", s.ioctl(fd, req, arg ? ptr(arg) : null));
}

export const linuxSyscalls: Syscalls = {
  unshare,
  setns,
  mount,
  mountSpec,
  umount2,
  pivotRoot,
  chdir,
  sethostname,
  setdomainname,
  prctl,
  capset,
  permittedCaps,
  setgroups,
  setresgid,
  setresuid,
  setsid,
  setControllingTty,
  mknod,
  umask,
  close,
  setCloexec,
  dup2,
  openPty,
  seccomp: loadSeccomp,
  setrlimit,
  execve,
};
