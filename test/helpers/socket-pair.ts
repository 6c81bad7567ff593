// A connected pair of unix stream sockets, both ends close-on-exec: what Bun.spawn
// hands a child for "pipe" stdio (the status channel the daemon reads with
// execdriver/socket-chunks.ts), made directly for tests of that reader.
import { dlopen, FFIType, ptr } from "bun:ffi";

const AF_UNIX = 1, SOCK_STREAM = 1, SOCK_CLOEXEC = 0o2000000;
const c = dlopen("libc.so.6", { socketpair: { args: [FFIType.i32, FFIType.i32, FFIType.i32, FFIType.ptr], returns: FFIType.i32 } });

export function socketPair(): [number, number] {
  const fds = Buffer.alloc(8);
  if (c.symbols.socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ptr(fds)) !== 0) throw new Error("socketpair failed");
  return [fds.readInt32LE(0), fds.readInt32LE(4)];
}
