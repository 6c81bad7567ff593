// The stdio of a natively exec'd command (native-exec.ts) as the containers
// layer takes it: our ends of three plain pipes as node streams, each closed
// when it is done (Bun.file streams and sinks never close an fd they were
// given), or a pty master (stdout and stderr merged, as a tty does).
import { closeSync } from "node:fs";
import { Writable, type Readable } from "node:stream";
import { setWinsize } from "../../kernel/pty.ts";
import { nodeReadable, ptyStreams } from "./streams.ts";

/**
 * A Writable over our end of the stdin pipe, through Bun's FileSink: it
 * writes without blocking (a full pipe is polled, the loop and the thread pool
 * never wait on a command that does not read). Once the command is gone
 * (EPIPE) its input goes nowhere, as with dockerd. The fd is closed at the end.
 */
export function stdinWritable(fd: number): Writable {
  const sink = Bun.file(fd).writer();
  const settle = (...xs: unknown[]) => Promise.all(xs.map((x) => (x instanceof Promise ? x.catch(() => {}) : x)));
  let closed = false;
  const close = () => {
    if (!closed) closeSync(fd);
    closed = true;
  };
  const w = new Writable({
    write(chunk: Buffer, _enc, cb) {
      let r: unknown, f: unknown;
      try {
        r = sink.write(chunk);
        f = sink.flush();
      } catch {} // EPIPE
      void settle(r, f).then(() => cb());
    },
    final(cb) {
      let end: unknown;
      try {
        end = sink.end();
      } catch {}
      void settle(end).then(() => {
        close();
        cb();
      });
    },
    destroy(err, cb) {
      close();
      cb(err);
    },
  });
  w.on("error", () => {});
  return w;
}

/** Our end of an output pipe as a node Readable (Bun's poll-based reader, as the keeper's); closed once read to its end. */
export function outputReadable(fd: number, onEnd?: () => void): Readable {
  return nodeReadable(Bun.file(fd).stream(), () => {
    closeSync(fd);
    onEnd?.();
  })!;
}

/** A terminal's master as stdin/stdout and a resize (ptyStreams closes it once the last slave is gone). */
export function terminal(master: number): { stdin: Writable; stdout: Readable; stderr: null; resize(rows: number, cols: number): void } {
  const pty = ptyStreams(master);
  return {
    stdin: pty.input,
    stdout: pty.output,
    stderr: null,
    resize: (rows, cols) => {
      try {
        setWinsize(master, rows, cols);
      } catch {} // already closed: the command has ended
    },
  };
}
