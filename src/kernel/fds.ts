// Pipes and descriptor flags for the keeper (engine/execdriver/keeper.ts): it
// creates a container's stdio pipes itself, so it knows their numbers, can
// make only its own ends non-blocking, and can keep them across execve(2)
// when it re-executes a newer binary.
import { dlopen, FFIType, ptr } from "bun:ffi";
import { check } from "./libc.ts";

const { i32, ptr: P } = FFIType;
const c = dlopen("libc.so.6", {
  pipe2: { args: [P, i32], returns: i32 },
  fcntl: { args: [i32, i32, i32], returns: i32 },
  waitid: { args: [i32, i32, P, i32], returns: i32 },
});
const s = c.symbols;

const O_CLOEXEC = 0o2000000, O_NONBLOCK = 0o4000;
const F_GETFD = 1, F_SETFD = 2, F_GETFL = 3, F_SETFL = 4, FD_CLOEXEC = 1;

/** A pipe, both ends close-on-exec (Bun.spawn dup2s the child's end onto 0..4, which clears the flag there). */
/** The two ends of a pipe(2). */
export interface Pipe {
  read: number;
  write: number;
}

export function pipe(): Pipe {
  const fds = Buffer.alloc(8);
  check("pipe2", s.pipe2(ptr(fds), O_CLOEXEC));
  return { read: fds.readInt32LE(0), write: fds.readInt32LE(4) };
}

const F_DUPFD_CLOEXEC = 1030;

/** A close-on-exec duplicate of `fd` (for a reader that closes the descriptor it is given). */
export function dupCloexec(fd: number): number {
  return check("fcntl(F_DUPFD_CLOEXEC)", s.fcntl(fd, F_DUPFD_CLOEXEC, 0));
}

/** O_NONBLOCK on one open file description (only the end that is ours: a container's end stays blocking). */
export function setNonblock(fd: number): void {
  const fl = check("fcntl(F_GETFL)", s.fcntl(fd, F_GETFL, 0));
  check("fcntl(F_SETFL)", s.fcntl(fd, F_SETFL, fl | O_NONBLOCK));
}

/** Keeps `fd` across execve(2). */
export function clearCloexec(fd: number): void {
  const fl = check("fcntl(F_GETFD)", s.fcntl(fd, F_GETFD, 0));
  check("fcntl(F_SETFD)", s.fcntl(fd, F_SETFD, fl & ~FD_CLOEXEC));
}

export function isOpen(fd: number): boolean {
  return s.fcntl(fd, F_GETFD, 0) >= 0;
}

const P_PID = 1, WEXITED = 4, WNOHANG = 1, WNOWAIT = 0x01000000;
const CLD_EXITED = 1;

/**
 * Reaps `pid` if it has exited (waitid P_PID, WNOHANG): for children a
 * re-executed keeper inherited, which its runtime (Bun) does not know and so
 * never reaps. null while it runs (`block`: waits for the exit instead).
 */
export function reapChild(pid: number, block = false): { code: number; signal: number | null } | null {
  const info = Buffer.alloc(128); // siginfo_t: si_code at 8, si_pid at 16, si_status at 24
  if (s.waitid(P_PID, pid, ptr(info), WEXITED | (block ? 0 : WNOHANG)) !== 0) return null;
  if (info.readInt32LE(16) !== pid) return null;
  const code = info.readInt32LE(8);
  const status = info.readInt32LE(24);
  return code === CLD_EXITED ? { code: status, signal: null } : { code: 128 + status, signal: status };
}

/** Reaps `pid`, waiting for it to exit (a child that is known to be exiting). */
export function waitChild(pid: number): void {
  while (!reapChild(pid, true) && isChild(pid));
}

/** Whether `pid` is still a child of ours to wait for (waitid ECHILD says not). */
function isChild(pid: number): boolean {
  const info = Buffer.alloc(128);
  return s.waitid(P_PID, pid, ptr(info), WEXITED | WNOHANG | WNOWAIT) === 0;
}
