// File-system calls node:fs lacks: mknod (devices, FIFOs, overlay whiteouts),
// the l*xattr family (never following symlinks) and sync_file_range. lchown/lutimes
// come from node:fs, which already uses the no-follow variants.
import { dlopen, FFIType } from "bun:ffi";
import { check, cstr, errno, SyscallError } from "./libc.ts";

const { i32, i64, u32, u64, ptr: P } = FFIType;

// Buffers go to the calls as they are, never as ptr() numbers: a number does not
// keep its buffer alive, and computing the next ptr() may allocate, collect the
// previous buffer and hand the kernel freed memory. The call holds its arguments.
const fs = dlopen("libc.so.6", {
  mknod: { args: [P, u32, u64], returns: i32 },
  lsetxattr: { args: [P, P, P, u64, i32], returns: i32 },
  lgetxattr: { args: [P, P, P, u64], returns: i64 },
  llistxattr: { args: [P, P, u64], returns: i64 },
  sync_file_range: { args: [i32, i64, i64, u32], returns: i32 },
});

export const S_IFIFO = 0o010000;
export const S_IFCHR = 0o020000;
export const S_IFBLK = 0o060000;

const ENODATA = 61;
const ENOTSUP = 95;
const ERANGE = 34;

/** glibc's makedev(3): the dev_t encoding of <sys/sysmacros.h>. */
export function makedev(major: number, minor: number): bigint {
  const ma = BigInt(major);
  const mi = BigInt(minor);
  return (mi & 0xffn) | ((ma & 0xfffn) << 8n) | ((mi & ~0xffn) << 12n) | ((ma & ~0xfffn) << 32n);
}

/** mknod(2). `type` is S_IFCHR, S_IFBLK or S_IFIFO; permission bits go in `perm`. */
export function mknod(path: string, type: number, perm: number, major = 0, minor = 0): void {
  const p = cstr(path);
  check("mknod", fs.symbols.mknod(p, type | (perm & 0o7777), makedev(major, minor)), path);
}

export function lsetxattr(path: string, name: string, value: Uint8Array): void {
  const p = cstr(path);
  const n = cstr(name);
  // A zero-length value is legal (e.g. empty trusted.* markers); FFI refuses empty buffers.
  const v = value.byteLength > 0 ? value : new Uint8Array(1);
  check("lsetxattr", fs.symbols.lsetxattr(p, n, v, value.byteLength, 0), `${path} ${name}`);
}

/** The value, or null when the attribute is absent or the fs has no xattrs. */
export function lgetxattr(path: string, name: string): Buffer | null {
  const p = cstr(path);
  const n = cstr(name);
  for (let size = 256; ; size *= 4) {
    const buf = Buffer.alloc(size);
    const rc = Number(fs.symbols.lgetxattr(p, n, buf, size));
    if (rc >= 0) return buf.subarray(0, rc);
    const e = errno();
    if (e === ENODATA || e === ENOTSUP) return null;
    if (e !== ERANGE || size > 1 << 20) throw new SyscallError("lgetxattr", e, `${path} ${name}`);
  }
}

export function llistxattr(path: string): string[] {
  const p = cstr(path);
  for (let size = 1024; ; size *= 4) {
    const buf = Buffer.alloc(size);
    const rc = Number(fs.symbols.llistxattr(p, buf, size));
    if (rc >= 0) return buf.subarray(0, rc).toString("latin1").split("\0").filter((s) => s !== "");
    const e = errno();
    if (e === ENOTSUP) return [];
    if (e !== ERANGE || size > 1 << 20) throw new SyscallError("llistxattr", e, path);
  }
}

/** Every xattr of `path` (without following a symlink) by name. */
export function lxattrs(path: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const name of llistxattr(path)) {
    const v = lgetxattr(path, name);
    if (v) out.set(name, v);
  }
  return out;
}

const SYNC_FILE_RANGE_WRITE = 2;

/**
 * Starts writing `fd`'s dirty pages to disk and returns without waiting for them
 * (sync_file_range(2) SYNC_FILE_RANGE_WRITE over the whole file): a later fsync then
 * has only the rest to wait for. Advisory: false when the call failed (a pipe, …).
 */
export function startWriteback(fd: number): boolean {
  return fs.symbols.sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE) === 0;
}
