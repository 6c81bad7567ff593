// Reading a file of a running container from the daemon, as the container
// would resolve its path: openat2(2) RESOLVE_IN_ROOT against /proc/<pid>/root
// treats that directory as "/" for every component, absolute symlinks and
// ".." included, so a container's /etc/passwd -> /host/file cannot lead the
// daemon out of the container's tree (exec's user lookup, execdriver/native-exec.ts).
import { ptr } from "bun:ffi";
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { cstr, libc, SyscallError, errno } from "./libc.ts";
import { nativeSyscallNumber } from "./seccomp/compile.ts";

const O_RDONLY = 0, O_NONBLOCK = 0o4000, O_DIRECTORY = 0o200000, O_CLOEXEC = 0o2000000, O_NOCTTY = 0o400, O_PATH = 0o10000000;
const RESOLVE_NO_MAGICLINKS = 0x02, RESOLVE_IN_ROOT = 0x10;
const ENOENT = 2, ENOTDIR = 20;

/** A directory to resolve paths in (O_PATH: no read permission needed, nothing is opened for I/O). */
export function openRoot(dir: string): number {
  return openSync(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
}

function openat2(dirfd: number, path: string, flags: number, resolve: number): number {
  const nr = nativeSyscallNumber("openat2");
  if (nr === undefined) throw new Error("no openat2 on this architecture");
  const p = cstr(path);
  const how = Buffer.alloc(24); // struct open_how { u64 flags, mode, resolve }
  how.writeBigUInt64LE(BigInt(flags), 0);
  how.writeBigUInt64LE(BigInt(resolve), 16);
  const fd = Number(libc.symbols.syscall(nr, dirfd, ptr(p), ptr(how), 24, 0, 0));
  if (fd < 0) throw new SyscallError("openat2", errno(), path);
  void [p, how];
  return fd;
}

/** `path` opened under `root` as the container would resolve it (no magic links either). */
export function openInRoot(root: number, path: string, flags: number): number {
  return openat2(root, path, flags | O_CLOEXEC, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
}

/**
 * The text of `path` under `root` (a descriptor from openRoot), or null when it
 * does not exist. Only a regular file of at most `maxBytes` is read: a FIFO or
 * a device would block or stream forever, and this runs on the daemon's loop.
 * Throws SyscallError for anything else (too large, not a file, EACCES…).
 */
export function readInRoot(root: number, path: string, maxBytes: number): string | null {
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO must not wait for a writer.
    fd = openat2(root, path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
  } catch (e) {
    const n = (e as SyscallError).errno;
    if (n === ENOENT || n === ENOTDIR) return null;
    throw e;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new SyscallError("read", 22, `${path} is not a regular file`);
    if (st.size > maxBytes) throw new SyscallError("read", 27, `${path} is larger than ${maxBytes} bytes`);
    const buf = Buffer.alloc(st.size);
    let n = 0;
    while (n < buf.length) {
      const r = readSync(fd, buf, n, buf.length - n, null);
      if (r === 0) break;
      n += r;
    }
    return buf.toString("utf8", 0, n);
  } finally {
    closeSync(fd);
  }
}
