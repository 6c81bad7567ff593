// File writes off the daemon's thread. A pull writes every byte twice (the
// compressed blob, the extracted files) and with writeSync that copying was
// most of the event loop's time (~0.65 s of a 120 MB pull, issue 16), so
// every layer waited for every other. Here each chunk is written at its own
// offset (pwrite) on the runtime's thread pool, several at once, while the
// loop goes on hashing and parsing; a bounded number of bytes is in flight.
import { write } from "node:fs";

// At most this many bytes queued per file. Writes go to the page cache: 8 chunks of 256 KB
// keep both pool threads busy, and a pull writes up to 6 files at once (3 layers, each a
// blob and an extracted file), so 8 MB each could hold 48 MB of chunks in memory.
export const IN_FLIGHT = 2 << 20;

function pwrite(fd: number, b: Uint8Array, at: number): Promise<void> {
  return new Promise((resolve, reject) =>
    write(fd, b, 0, b.byteLength, at, (e, n) => {
      if (e) return reject(e);
      if (n === b.byteLength) return resolve();
      pwrite(fd, b.subarray(n), at + n).then(resolve, reject); // a short write: the rest
    }),
  );
}

export class PositionalWriter {
  private at: number;
  private inFlight = 0;
  private readonly pending = new Set<Promise<void>>();
  private failed: unknown = null;

  /** `chunk`s handed to write() must not change afterwards (they are written later). */
  constructor(
    private readonly fd: number,
    start = 0,
  ) {
    this.at = start;
  }

  /**
   * Queues `chunk` after the bytes before it; waits only while too much is in flight.
   * `written` runs once the chunk's bytes are written (or failed to be): nothing here
   * needs the chunk after that.
   */
  async write(chunk: Uint8Array, written?: () => void): Promise<void> {
    if (this.failed) throw this.failed;
    if (!chunk.byteLength) return written?.();
    const n = chunk.byteLength;
    const p: Promise<void> = pwrite(this.fd, chunk, this.at)
      .catch((e) => void (this.failed ??= e))
      .finally(() => {
        this.inFlight -= n;
        this.pending.delete(p);
        written?.();
      });
    this.at += n;
    this.inFlight += n;
    this.pending.add(p);
    while (this.inFlight > IN_FLIGHT) await Promise.race(this.pending);
  }

  /** Bytes handed to write() and not yet written. */
  get queued(): number {
    return this.inFlight;
  }

  /** Resolves once every queued byte is written; throws the first write's error. */
  async flush(): Promise<void> {
    while (this.pending.size) await Promise.all(this.pending);
    if (this.failed) throw this.failed;
  }
}
