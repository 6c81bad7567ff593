// The socket calls rtnetlink needs, through our own dlopen of libc (libc.ts
// belongs to the syscall seam; we only borrow its errno helpers).
import { dlopen, FFIType, ptr } from "bun:ffi";
import { closeSync, openSync } from "node:fs";
import { check } from "./libc.ts";

const { i32, u32, u64, i64, ptr: P } = FFIType;

const net = dlopen("libc.so.6", {
  socket: { args: [i32, i32, i32], returns: i32 },
  sendto: { args: [i32, P, u64, i32, P, u32], returns: i64 },
  recvfrom: { args: [i32, P, u64, i32, P, P], returns: i64 },
  setsockopt: { args: [i32, i32, i32, P, u32], returns: i32 },
  close: { args: [i32], returns: i32 },
  setns: { args: [i32, i32], returns: i32 },
});

const AF_NETLINK = 16;
const SOCK_RAW = 3;
const SOCK_CLOEXEC = 0x80000;
const NETLINK_ROUTE = 0;
const SOL_SOCKET = 1;
const SO_RCVTIMEO = 20;
const CLONE_NEWNET = 0x40000000;

/** A raw NETLINK_ROUTE socket; blocking, with a receive timeout so a lost reply cannot hang the daemon. */
export function openRouteSocket(timeoutMs = 5000): number {
  const fd = check("socket", net.symbols.socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE), "AF_NETLINK");
  const tv = Buffer.alloc(16);
  tv.writeBigInt64LE(BigInt(Math.floor(timeoutMs / 1000)), 0);
  tv.writeBigInt64LE(BigInt((timeoutMs % 1000) * 1000), 8);
  check("setsockopt", net.symbols.setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, ptr(tv), 16), "SO_RCVTIMEO");
  return fd;
}

const kernelAddr = (() => {
  const b = Buffer.alloc(12);
  b.writeUInt16LE(AF_NETLINK, 0);
  return b;
})();

export function sendNetlink(fd: number, msg: Uint8Array): void {
  const buf = Buffer.from(msg);
  check("sendto", net.symbols.sendto(fd, buf, buf.length, 0, kernelAddr, kernelAddr.length), "netlink");
}

/** One datagram (a dump reply spans several). */
export function recvNetlink(fd: number, buf: Buffer): Uint8Array {
  const n = check("recvfrom", net.symbols.recvfrom(fd, ptr(buf), buf.length, 0, null, null), "netlink");
  return buf.subarray(0, n);
}

export function closeFd(fd: number): void {
  net.symbols.close(fd);
}

/**
 * Runs `fn` with the calling thread switched into the network namespace at
 * `nsPath`, then switches back. setns(2) with CLONE_NEWNET changes only the
 * calling thread, and allowed in a multi-threaded process (unlike CLONE_NEWUSER
 * or CLONE_NEWNS). bun:ffi calls run synchronously on the JS thread, and `fn`
 * must be synchronous: no other JavaScript can run on this thread between the
 * two setns calls. We use it only to create a socket: a socket stays bound to
 * the netns it was created in (socket(7), network_namespaces(7)), so everything
 * afterwards runs back in the daemon's own namespace. This is what Docker's
 * netlink handle per sandbox does (vishvananda/netlink NewHandleAt).
 */
export function inNetns<T>(nsPath: string, fn: () => T): T {
  const self = openSync("/proc/thread-self/ns/net", "r");
  let target = -1;
  try {
    target = openSync(nsPath, "r");
    check("setns", net.symbols.setns(target, CLONE_NEWNET), nsPath);
    try {
      return fn();
    } finally {
      // If switching back failed the thread would be stranded in the container's
      // namespace; there is no safe way to continue.
      if (net.symbols.setns(self, CLONE_NEWNET) !== 0) {
        console.error("ctr: fatal: cannot return to the daemon's network namespace");
        process.exit(70);
      }
    }
  } finally {
    if (target >= 0) closeSync(target);
    closeSync(self);
  }
}

/** A netns file descriptor for IFLA_NET_NS_FD, closed by the caller. */
export function openNetns(nsPath: string): number {
  return openSync(nsPath, "r");
}
