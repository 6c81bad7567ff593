// The one place that talks to libc through bun:ffi. Everything above takes the
// typed wrappers from this folder, never `bun:ffi` itself.
import { dlopen, FFIType, ptr, read } from "bun:ffi";

const { i32, u32, i64, u64, ptr: P, cstring } = FFIType;

export const libc = dlopen("libc.so.6", {
  __errno_location: { args: [], returns: P },
  strerror: { args: [i32], returns: cstring },
  flock: { args: [i32, i32], returns: i32 },
  getuid: { args: [], returns: u32 },
  unshare: { args: [i32], returns: i32 },
  setns: { args: [i32, i32], returns: i32 },
  mount: { args: [P, P, P, u64, P], returns: i32 },
  umount2: { args: [P, i32], returns: i32 },
  syscall: { args: [i64, i64, i64, i64, i64, i64], returns: i64 },
});

export class SyscallError extends Error {
  constructor(
    readonly call: string,
    readonly errno: number,
    detail = "",
  ) {
    super(`${call}${detail ? ` ${detail}` : ""}: ${libc.symbols.strerror(errno)} (errno ${errno})`);
    this.name = "SyscallError";
  }
}

export function errno(): number {
  const p = libc.symbols.__errno_location();
  return p ? read.i32(p, 0) : 0;
}

/** Throws SyscallError when a libc call returned -1. */
export function check(call: string, rc: number | bigint, detail = ""): number {
  const n = Number(rc);
  if (n < 0) throw new SyscallError(call, errno(), detail);
  return n;
}

/** A NUL-terminated C string kept alive by the caller's reference. */
export function cstr(s: string): Buffer {
  return Buffer.from(s + "\0");
}

export function cptr(buf: Buffer | null): number | null {
  return buf ? ptr(buf) : null;
}
