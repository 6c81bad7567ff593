// decompressStream: bounded output chunks, owned input chunks freed once gunzip took them.
import { expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { gzipSync, zstdCompressSync } from "node:zlib";
import { decompressStream } from "../../../src/store/tar/decompress.ts";
import { done, own } from "../../../src/store/owned-buffers.ts";

const chunked = (b: Uint8Array, n: number) => {
  const out: Uint8Array[] = [];
  for (let i = 0; i < b.byteLength; i += n) out.push(new Uint8Array(b.subarray(i, i + n))); // a buffer of its own each
  return out;
};

test("gunzip output comes in chunks of at most 256 KB, larger than zlib's 16 KB default", async () => {
  const raw = randomBytes(3 << 20);
  const sizes: number[] = [];
  const got: Uint8Array[] = [];
  for await (const c of decompressStream(chunked(gzipSync(raw), 256 << 10))) {
    sizes.push(c.byteLength);
    got.push(Buffer.from(c));
  }
  expect(Buffer.concat(got).equals(raw)).toBe(true);
  expect(Math.max(...sizes)).toBeLessThanOrEqual(256 << 10);
  expect(Math.max(...sizes)).toBeGreaterThan(16 << 10);
});

test("owned input chunks are freed once consumed; the output is still right; chunks nobody owns are kept", async () => {
  const raw = randomBytes(2 << 20);
  const input = chunked(gzipSync(raw), 64 << 10);
  const owned = input.filter((_, i) => i % 2 === 0);
  for (const c of owned) expect(own(c, 1)).toBe(true);
  const lens = input.map((c) => c.byteLength);
  async function* src() {
    for (const c of input) yield c;
  }
  const got: Uint8Array[] = [];
  for await (const c of decompressStream(src())) got.push(Buffer.from(c));
  expect(Buffer.concat(got).equals(raw)).toBe(true);
  expect(input.map((c) => c.byteLength)).toEqual(lens.map((n, i) => (i % 2 === 0 ? 0 : n)));
});

test("plain input passes through untouched even when owned (the tar reader keeps views of it)", async () => {
  const raw = randomBytes(300_000);
  const input = chunked(raw, 100_000);
  for (const c of input) own(c, 1);
  const got: Uint8Array[] = [];
  for await (const c of decompressStream(input)) got.push(Buffer.from(c));
  expect(Buffer.concat(got).equals(raw)).toBe(true);
  // Only the first chunk was copied (to sniff the format) and so freed; the rest were handed on.
  expect(input.map((c) => c.byteLength)).toEqual([0, 100_000, 100_000]);
});

/** Chunk sizes from a fixed seed: every run cuts the same way. */
function* sizes(seed: number, max: number): Generator<number> {
  let x = seed;
  for (;;) {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    yield 1 + (x % max);
  }
}

test("gunzip's and zstd's output chunks are freed once the consumer is done with them, never while zlib or a later chunk still needs their buffer", async () => {
  const raw = Buffer.concat([randomBytes(3 << 20), Buffer.from("abc".repeat(1 << 20)), randomBytes(1 << 20)]);
  for (const [compress, seed] of [[gzipSync, 1], [gzipSync, 2], [gzipSync, 3], [zstdCompressSync, 4]] as const) {
    const gz = compress(raw);
    const cut = sizes(seed, 300_000);
    async function* src() {
      for (let i = 0; i < gz.byteLength; ) {
        const n = cut.next().value;
        yield new Uint8Array(gz.subarray(i, i + n));
        i += n;
        if (n % 3 === 0) await Bun.sleep(0); // gunzip runs ahead sometimes
      }
    }
    const copies: Buffer[] = [];
    const seen: Uint8Array[] = [];
    const held: Uint8Array[] = [];
    for await (const c of decompressStream(src())) {
      copies.push(Buffer.from(c));
      seen.push(c);
      held.push(c);
      // Done in a different order and later than handed out, as file writes finish.
      if (held.length > 2) done(held.splice(cut.next().value % held.length, 1)[0]!);
    }
    for (const c of held) done(c);
    expect(Buffer.concat(copies).equals(raw)).toBe(true);
    // By bytes: zlib copies a few small outputs into buffers of their own, which are left alone.
    const freed = copies.filter((_, i) => seen[i]!.byteLength === 0).reduce((n, c) => n + c.byteLength, 0);
    expect(freed).toBeGreaterThan(raw.byteLength * 0.9);
  }
});

test("gunzip's output is left to the collector when the consumer does not free it", async () => {
  const raw = randomBytes(1 << 20);
  const seen: Uint8Array[] = [];
  for await (const c of decompressStream(chunked(gzipSync(raw), 64 << 10))) seen.push(c);
  expect(Buffer.concat(seen).equals(raw)).toBe(true);
});
