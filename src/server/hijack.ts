import { PassThrough, type Readable } from "node:stream";
import { pushStream } from "./push-stream.ts";
import { unreadByPeer } from "../kernel/socket.ts";
import { drainedOrClosed } from "../drained.ts";
import type { Conn } from "./front/conn.ts";

/**
 * A request that arrived with `Connection: Upgrade` carries its socket here.
 * The docker CLI fails on anything but 101 for attach and exec start, then
 * speaks raw bytes both ways and half-closes its side when stdin ends.
 */
export interface Hijackable {
  socket: Conn;
  /** Bytes that followed the request body on the socket (early stdin). */
  rest: Buffer;
  taken: boolean;
  /** The socket's descriptor when known (unix sockets). */
  fd?: number;
}

/** A raw byte conversation with the client, hijacked or as a plain streamed body. */
export interface RawConn {
  /** Client → daemon bytes (stdin); null when the request could not be hijacked. */
  input: Readable | null;
  /**
   * Undefined while the client keeps up; else a promise that settles when it
   * drained (or left). Producers await it, as dockerd's attach blocks the
   * container's output on a slow client rather than queue it without end.
   */
  write(chunk: Uint8Array): Promise<void> | undefined;
  end(): void;
  /** Resolves when the client went away or we ended. */
  closed: Promise<void>;
  isClosed(): boolean;
}

export const HIJACKED_HEADER = "x-ctr-hijacked";

/**
 * Takes over the socket: writes the 101 head and returns the raw conversation.
 *
 * Output is held back until the client has read the head. The docker SDK for
 * Python parses the head through a buffered reader and then reads frames from
 * the raw socket, so frames that arrive with the head land in that buffer and
 * are lost (docker/docker-py#2042, #3332): a fast exec returned b"". dockerd has
 * the same race, hidden by its slower process start.
 */
export function acceptHijack(h: Hijackable, headers: Record<string, string>): RawConn {
  h.taken = true;
  const { socket } = h;
  const lines = ["HTTP/1.1 101 UPGRADED", ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
  let closed = false;
  let held: Uint8Array[] | null = [];
  let endHeld = false;
  const release = () => {
    const chunks = held ?? [];
    held = null;
    for (const c of chunks) if (!socket.destroyed) socket.write(c);
    if (endHeld && !socket.destroyed) socket.end();
  };
  socket.write(lines.join("\r\n") + "\r\n\r\n", () => void headRead(h.fd, socket, () => closed).then(release));
  const input = new PassThrough();
  if (h.rest.length) input.write(h.rest);
  socket.on("data", (d: Buffer) => input.write(d));
  // Half-close from the client ends stdin only; we keep writing output.
  socket.on("end", () => input.end());
  socket.resume(); // reading the request body paused it
  const closedP = new Promise<void>((resolve) => {
    const done = () => {
      closed = true;
      input.end();
      resolve();
    };
    socket.once("close", done);
    socket.once("error", done);
  });
  return {
    input,
    write: (chunk) => {
      if (closed || endHeld || socket.destroyed || socket.writableEnded) return undefined;
      if (held) {
        held.push(chunk); // the head is not read yet: see headRead
        return undefined;
      }
      if (socket.write(chunk)) return undefined;
      return drainedOrClosed(socket);
    },
    end: () => {
      if (held) endHeld = true;
      else if (!socket.destroyed && !socket.writableEnded) socket.end();
    },
    closed: closedP,
    isClosed: () => closed,
  };
}

/** How long a client may leave the head unread before output goes anyway (it is not reading). */
const HEAD_READ_DEADLINE_MS = 2000;

/**
 * Resolves once the peer has read everything written so far (the kernel's count
 * of unread bytes is 0), the connection is gone, or the deadline passed. There
 * is no readiness event for "the peer consumed": it is polled, each poll one ioctl.
 */
async function headRead(fd: number | undefined, socket: Conn, gone: () => boolean): Promise<void> {
  if (fd === undefined) return;
  const deadline = Date.now() + HEAD_READ_DEADLINE_MS;
  for (;;) {
    if (gone() || Date.now() > deadline) return;
    try {
      // Nothing left in the runtime's buffer, and nothing unread in the kernel's.
      if (socket.writableLength === 0 && unreadByPeer(fd) === 0) return;
    } catch {
      return; // not a socket we can ask (closed meanwhile)
    }
    await new Promise((r) => setTimeout(r, 1));
  }
}

/** Fallback for clients that did not ask to upgrade: output as a streamed 200 body. */
export function streamedConn(): { conn: RawConn; body: ReadableStream<Uint8Array> } {
  let resolveClosed!: () => void;
  const closedP = new Promise<void>((r) => (resolveClosed = r));
  const out = pushStream(() => resolveClosed());
  return {
    body: out.body,
    conn: {
      input: null,
      write: (chunk) => out.write(chunk),
      end: () => {
        out.close();
        resolveClosed();
      },
      closed: closedP,
      isClosed: out.isClosed,
    },
  };
}
