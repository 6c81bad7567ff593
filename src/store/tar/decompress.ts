// Layer blobs arrive gzip- or zstd-compressed or plain; the media type can lie
// (docker's v2 schema says "tar.gzip" for everything), so like containerd's
// compression.DecompressStream we sniff the magic bytes.
import { createGunzip, createZstdDecompress } from "node:zlib";
import { iterate, type ByteSource } from "./byte-source.ts";
import { churned, reclaimed } from "../../gc-pacer.ts";
import { done, ownBuffer, share } from "../owned-buffers.ts";
import { drainedOrClosed } from "../../drained.ts";

export type Compression = "gzip" | "zstd" | "none";

const GZIP = [0x1f, 0x8b];
const ZSTD = [0x28, 0xb5, 0x2f, 0xfd];
// Output chunk of the decompressor. zlib's default (16 KB) means one round trip from
// the thread pool to the event loop, and one trip through the stream and the tar
// parser, per 16 KB: a 30 MB gzip layer took 150-220 ms of CPU to inflate that way,
// 40-50 ms with 256 KB, and a 120 MB 4-layer pull went from ~900 to ~520 ms (issue 16).
const OUT_CHUNK = 256 * 1024;

export function detectCompression(head: Uint8Array): Compression {
  const starts = (m: number[]) => m.every((b, i) => head[i] === b);
  if (starts(GZIP)) return "gzip";
  if (starts(ZSTD)) return "zstd";
  return "none";
}

/**
 * Streams `src` decompressed. The first chunk(s) decide the format (at least 4
 * bytes are gathered first); nothing beyond the current chunk is buffered.
 */
export async function* decompressStream(src: ByteSource): AsyncGenerator<Uint8Array> {
  const it = iterate(src)[Symbol.asyncIterator]();
  const head: Uint8Array[] = [];
  let headLen = 0;
  let ended = false;
  while (headLen < 4) {
    const r = await it.next();
    if (r.done) {
      ended = true;
      break;
    }
    head.push(r.value);
    headLen += r.value.byteLength;
  }
  const first = Buffer.concat(head); // a copy: the chunks it was made of are not read again
  for (const h of head) done(h);
  const kind = detectCompression(first);
  async function* raw(): AsyncGenerator<Uint8Array> {
    if (first.byteLength) yield first;
    if (ended) return;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield r.value;
    }
  }
  if (kind === "none") {
    for await (const chunk of raw()) {
      yield chunk;
      churned(chunk.byteLength);
    }
    return;
  }
  const z = kind === "gzip" ? createGunzip({ chunkSize: OUT_CHUNK }) : createZstdDecompress({ chunkSize: OUT_CHUNK });
  let stopped = false;
  // One input chunk at a time (network chunks are 256 KB; three layers in parallel each
  // read ahead 4 MB that gunzip was not ready for when 16 were allowed). zlib calls a
  // write back once it has consumed the chunk, so a chunk we own is freed right then.
  void (async () => {
    const input = raw();
    try {
      // No read once gunzip failed or its reader left: the rest is the caller's to drain.
      while (!stopped && !z.destroyed) {
        const r = await input.next();
        if (r.done) return void (stopped || z.end());
        const c = r.value;
        if (!z.write(c, () => done(c))) await drainedOrClosed(z);
      }
    } catch (e) {
      z.destroy(e as Error);
    }
  })();
  // Read in flowing mode ('data'), not with the stream's iterator: that read() can join
  // queued chunks into a copy, while 'data' hands out exactly zlib's pushes, in order,
  // which OutputOwner relies on.
  const out = new OutputOwner("_outBuffer" in z);
  const queue: Uint8Array[] = [];
  let failure: unknown = null;
  let finished = false;
  let wake: (() => void) | null = null;
  const woken = () => {
    const w = wake;
    wake = null;
    w?.();
  };
  z.on("data", (c: Uint8Array) => {
    out.take(c);
    queue.push(c);
    z.pause(); // one chunk ahead, as the stream's own buffering did
    woken();
  });
  z.on("end", () => {
    finished = true;
    woken();
  });
  z.on("error", (e) => {
    failure ??= e;
    woken();
  });
  z.on("close", () => {
    if (!finished) failure ??= new Error("Premature close");
    woken();
  });
  try {
    for (;;) {
      const c = queue.shift();
      if (c) {
        churned(c.byteLength); // before the consumer can free it (reclaimed)
        yield c;
        continue;
      }
      if (failure) throw failure;
      if (finished) break;
      z.resume();
      await new Promise<void>((r) => (wake = r));
    }
    // zlib is done with every buffer now; after a failure or an early stop a write may
    // still be filling the current one, which is then left to the collector.
    out.seal();
  } finally {
    stopped = true;
    z.destroy();
  }
}

/**
 * Hands zlib's output chunks to the consumer as owned (owned-buffers.ts): a consumer that
 * calls done() on each (extract.ts) has them freed at once; one that does not leaves them
 * to the collector. node:zlib inflates into an OUT_CHUNK buffer and pushes views of it as
 * it fills, then moves on to a fresh buffer and never writes the old one again: so a
 * buffer has one more user ("zlib"), released when a view of another buffer is pushed or
 * the stream ended, and is freed once that and every view handed out are done. A stream
 * without that layout (no _outBuffer) gets nothing freed.
 */
class OutputOwner {
  /** A view of the buffer zlib is filling; it holds the "zlib" user. */
  private current: Uint8Array | null = null;

  constructor(private readonly nodeLayout: boolean) {}

  take(c: Uint8Array): void {
    if (!this.nodeLayout || c.buffer.byteLength !== OUT_CHUNK) return; // not zlib's buffer: not ours to free
    if (this.current?.buffer === c.buffer) {
      share(c);
      return;
    }
    this.seal();
    if (ownBuffer(c, 2, reclaimed)) this.current = c;
  }

  /** zlib moved on from the current buffer (or ended). */
  seal(): void {
    if (this.current) done(this.current);
    this.current = null;
  }
}
