import { openSync, closeSync, writeFileSync } from "node:fs";
import { libc, errno, SyscallError } from "./libc.ts";

const LOCK_EX = 2;
const LOCK_NB = 4;
const EWOULDBLOCK = 11;

/** An exclusive advisory lock held for the life of the process (or until release). */
export interface FileLock {
  release(): void;
}

/**
 * Takes an exclusive flock on `path`, or returns null when another process
 * holds it. flock locks vanish with their holder, so a crashed daemon never
 * leaves a stale lock behind (unlike a pid file).
 */
export function tryLock(path: string): FileLock | null {
  const fd = openSync(path, "a+");
  if (libc.symbols.flock(fd, LOCK_EX | LOCK_NB) !== 0) {
    const e = errno();
    closeSync(fd);
    if (e === EWOULDBLOCK) return null;
    throw new SyscallError("flock", e, path);
  }
  writeFileSync(path, `${process.pid}\n`);
  return { release: () => closeSync(fd) };
}

export function isRoot(): boolean {
  return libc.symbols.getuid() === 0;
}
