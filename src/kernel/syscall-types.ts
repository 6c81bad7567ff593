// The one interface for every syscall `ctr init` makes while it sets a
// container up (youki's syscall/syscall.rs split): the real implementation is
// `linuxSyscalls` (syscalls.ts, bun:ffi); unit tests pass a fake that records
// the calls. No bun:ffi here, so fakes load without libc.
import type { MountSpec } from "./mount.ts";

export interface Syscalls {
  unshare(flags: number): void;
  setns(fd: number, nstype: number): void;
  mount(source: string | null, target: string, fstype: string | null, flags: number, data: string | null): void;
  /** A graph-driver mount spec (overlay with lowerdir=…, or a bind) at `target`. */
  mountSpec(spec: MountSpec, target: string): void;
  umount2(target: string, flags: number): void;
  pivotRoot(newRoot: string, putOld: string): void;
  chdir(path: string): void;
  sethostname(name: string): void;
  setdomainname(name: string): void;
  prctl(op: number, a?: number, b?: number): number;
  /** capset(2) v3: the three sets as 64-bit masks. */
  capset(effective: bigint, permitted: bigint, inheritable: bigint): void;
  /** This thread's permitted set (capget): nothing outside it can be kept. */
  permittedCaps(): bigint;
  setgroups(gids: number[]): void;
  setresgid(gid: number): void;
  setresuid(uid: number): void;
  setsid(): void;
  setControllingTty(fd: number): void;
  mknod(path: string, type: number, perm: number, major: number, minor: number): void;
  umask(mask: number): number;
  close(fd: number): void;
  /** FD_CLOEXEC: the status pipe closes exactly when execve succeeds. */
  setCloexec(fd: number): void;
  dup2(oldFd: number, newFd: number): void;
  /** Opens a pty on the devpts at /dev/ptmx *as this process sees it* (the container's, after pivot_root). */
  openPty(): { master: number; slavePath: string };
  /** Installs a seccomp filter (struct sock_filter[]) on this thread; inherited across execve. */
  seccomp(program: Uint8Array): void;
  /** setrlimit(2); -1 = RLIM_INFINITY. */
  setrlimit(resource: number, soft: number, hard: number): void;
  /** Replaces the process image; returns only by throwing. */
  execve(path: string, argv: string[], env: string[]): never;
}

// <linux/sched.h>
export const CLONE_FS = 0x00000200;
export const CLONE_NEWNS = 0x00020000;
export const CLONE_NEWCGROUP = 0x02000000;
export const CLONE_NEWUTS = 0x04000000;
export const CLONE_NEWIPC = 0x08000000;
export const CLONE_NEWPID = 0x20000000;
export const CLONE_NEWNET = 0x40000000;

// <linux/mount.h>
export const MS_RDONLY = 1;
export const MS_NOSUID = 2;
export const MS_NODEV = 4;
export const MS_NOEXEC = 8;
export const MS_REMOUNT = 32;
export const MS_BIND = 4096;
export const MS_REC = 16384;
export const MS_PRIVATE = 1 << 18;
export const MS_SLAVE = 1 << 19;
export const MNT_DETACH = 2;

// <linux/prctl.h>
export const PR_SET_PDEATHSIG = 1;
export const PR_SET_DUMPABLE = 4;
export const PR_CAPBSET_DROP = 24;
export const PR_SET_CHILD_SUBREAPER = 36;
export const PR_SET_NO_NEW_PRIVS = 38;
export const PR_CAP_AMBIENT = 47;
export const PR_CAP_AMBIENT_CLEAR_ALL = 4;

// <sys/stat.h>
export const S_IFCHR = 0o020000;
