import type { Duplex } from "node:stream";
import { PassThrough, type Readable } from "node:stream";
import { pushStream } from "./push-stream.ts";

/**
 * A request that arrived with `Connection: Upgrade` carries its socket here.
 * The docker CLI fails on anything but 101 for attach and exec start, then
 * speaks raw bytes both ways and half-closes its side when stdin ends.
 */
export interface Hijackable {
  socket: Duplex;
  /** Bytes that followed the request body on the socket (early stdin). */
  rest: Buffer;
  taken: boolean;
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

/** Takes over the socket: writes the 101 head and returns the raw conversation. */
export function acceptHijack(h: Hijackable, headers: Record<string, string>): RawConn {
  h.taken = true;
  const { socket } = h;
  const lines = ["HTTP/1.1 101 UPGRADED", ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
  socket.write(lines.join("\r\n") + "\r\n\r\n");
  const input = new PassThrough();
  if (h.rest.length) input.write(h.rest);
  socket.on("data", (d: Buffer) => input.write(d));
  // Half-close from the client ends stdin only; we keep writing output.
  socket.on("end", () => input.end());
  socket.resume(); // reading the request body paused it
  let closed = false;
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
      if (closed || socket.destroyed || socket.write(chunk)) return undefined;
      return new Promise<void>((resolve) => {
        const done = () => {
          socket.off("drain", done);
          socket.off("close", done);
          resolve();
        };
        socket.on("drain", done);
        socket.on("close", done);
      });
    },
    end: () => {
      if (!socket.destroyed) socket.end();
    },
    closed: closedP,
    isClosed: () => closed,
  };
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
