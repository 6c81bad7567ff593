// Node streams over what Bun.spawn and the pty master give us, because the
// containers layer (attach, logs) speaks node:stream.
import { closeSync, read, write } from "node:fs";
import { PassThrough, Writable, type Readable } from "node:stream";
import { drainedOrClosed } from "../../drained.ts";

/** `s` (a ReadableStream or socketChunks) as a node Readable; `sourceDone` runs once `s` has ended (read to its end). */
export function nodeReadable(s: AsyncIterable<Uint8Array> | null | undefined, sourceDone?: () => void): Readable | null {
  if (!s) return null;
  const out = new PassThrough();
  void (async () => {
    try {
      // Respect the reader's pace: a pump held back by a slow attach client must
      // leave the rest in the pipe (the container then blocks, as under dockerd),
      // not have it all queued here.
      // Once the reader went away the rest is read and dropped, as dockerd's copier does:
      // the writer must not block for ever, and the source's end must still come.
      for await (const chunk of s) if (!out.destroyed && !out.write(chunk)) await drainedOrClosed(out);
    } catch {}
    out.end();
    sourceDone?.();
  })();
  return out;
}

interface Sink {
  write(b: Uint8Array): unknown;
  flush?(): unknown;
  end(): unknown;
}

export function nodeWritable(sink: unknown): Writable | null {
  const s = sink as Sink | null | undefined;
  if (!s || typeof s === "number") return null;
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      try {
        s.write(chunk);
        s.flush?.();
        cb();
      } catch (e) {
        cb(e as Error);
      }
    },
    final(cb) {
      try {
        s.end();
      } catch {}
      cb();
    },
  });
}

/**
 * The pty master as a readable (until EIO: the last slave closed) and a
 * writable. The fd is closed once reading ended and the writer is done.
 */
export function ptyStreams(master: number): { output: Readable; input: Writable; close(): void } {
  let closed = false;
  let readDone = false;
  const close = () => {
    if (closed) return;
    closed = true;
    try {
      closeSync(master);
    } catch {}
  };
  const output = new PassThrough();
  const pump = () => {
    if (closed) return output.end();
    const b = Buffer.alloc(16384);
    read(master, b, 0, b.length, null, (err, n) => {
      if (err || n === 0) {
        readDone = true;
        output.end();
        return close();
      }
      output.write(b.subarray(0, n), () => pump());
    });
  };
  pump();
  const input = new Writable({
    write(chunk: Buffer, _enc, cb) {
      if (closed) return cb();
      write(master, chunk, (err) => cb(err && !readDone ? err : null));
    },
  });
  input.on("error", () => {});
  return { output, input, close };
}
