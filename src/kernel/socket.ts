// Socket queue state the HTTP layer cannot see through node:net.
import { ioctl } from "./syscalls.ts";

// SIOCOUTQ (= TIOCOUTQ): on a unix stream socket, the bytes written and not yet
// read by the peer — each skb stays charged to the sender until the receiver
// consumes it (net/unix/af_unix.c, unix_outq_len).
const SIOCOUTQ = 0x5411;

/** Bytes this end wrote that the peer has not read yet. */
export function unreadByPeer(fd: number): number {
  const b = Buffer.alloc(4);
  ioctl(fd, SIOCOUTQ, b);
  return b.readInt32LE(0);
}
