// Reading our end of a container's stdio socket (or init's status socket) without
// Bun's pipe reader. A ReadableStream over an fd (Bun.spawn's "pipe" stdout/stderr,
// Bun.file(fd).stream()) pulls into a 256 KiB Uint8Array of its own, allocated at the
// first read whatever the stream carries and freed only when the stream object is
// collected: 3–4 per `run --rm` (stdout, stderr, the status pipe), zero-filled in
// recycled allocator memory, so each was 256 KiB of RSS until the next full
// collection (the daemon held 16.7 MiB of them after 20 runs, ~14 stayed at idle).
// A socket read through Bun.connect({ fd }) lands in the event loop's one shared
// receive buffer and is handed over as a Buffer of exactly the bytes read.
// The reader owns `fd`: the socket closes it when it ends or is cancelled.

import { closeSync, fstatSync } from "node:fs";

type BunSocket = { pause(): void; resume(): void; terminate(): void };

export interface SocketChunks extends AsyncIterableIterator<Uint8Array> {
  /** Stops reading and closes the fd (what is unread stays unread). */
  cancel(): void;
}

/**
 * The bytes the peer of the unix stream socket `fd` writes, chunk by chunk, until
 * it closes its end. At most one chunk waits here: while it does the socket is
 * paused, so a slow consumer leaves the rest in the socket and the writer blocks
 * (as with a pipe). A read error ends the chunks as EOF does.
 */
export function socketChunks(fd: number): SocketChunks {
  const queue: Uint8Array[] = [];
  let done = false;
  let waiter: ((r: IteratorResult<Uint8Array>) => void) | null = null;
  let sock: BunSocket | null = null;
  let cancelled = false;
  const settle = () => {
    if (!waiter) return;
    const w = waiter;
    if (queue.length) {
      waiter = null;
      w({ value: queue.shift()!, done: false });
      if (!done) sock?.resume();
    } else if (done) {
      waiter = null;
      w({ value: undefined, done: true });
    }
  };
  const finish = () => {
    done = true;
    settle();
  };
  const handlers = {
    data(s: BunSocket, chunk: Uint8Array) {
      queue.push(chunk);
      if (!waiter) s.pause();
      settle();
    },
    end: finish,
    close: finish,
    error: finish,
    connectError: finish,
  };
  // Which socket `fd` is, to close it on a failed connect only if Bun did not (a number closed
  // twice could by then be someone else's descriptor).
  const ino = fstatSync(fd).ino;
  Bun.connect({ fd, socket: handlers } as never).then(
    (s) => {
      sock = s as unknown as BunSocket;
      if (cancelled) sock.terminate();
    },
    () => {
      try {
        if (fstatSync(fd).ino === ino) closeSync(fd);
      } catch {} // already closed
      finish();
    },
  );
  const it: SocketChunks = {
    next() {
      if (waiter) return Promise.reject(new Error("socketChunks: one read at a time"));
      return new Promise((resolve) => {
        waiter = resolve;
        settle();
      });
    },
    async return() {
      it.cancel();
      return { value: undefined, done: true };
    },
    cancel() {
      if (cancelled) return;
      cancelled = true;
      queue.length = 0;
      sock?.terminate();
      finish();
    },
    [Symbol.asyncIterator]() {
      return it;
    },
  };
  return it;
}
