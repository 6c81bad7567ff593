// LayerSource: network chunks are freed once both the ingest and the consumer are done
// with them; a digest failure at the end reaches every later reader (the pull's drain).
import { afterEach, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { ContentStore, DigestMismatchError, sha256Digest } from "../../../src/store/content-store.ts";
import { LayerSource } from "../../../src/engine/images/layer-source.ts";
import { done } from "../../../src/store/owned-buffers.ts";

const dirs: string[] = [];
const store = () => {
  const d = mkdtempSync(join(tmpdir(), "ctr-ls-"));
  dirs.push(d);
  return new ContentStore(join(d, "blobs"), join(d, "tmp"));
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const pieces = (b: Uint8Array, n: number) => Array.from({ length: Math.ceil(b.byteLength / n) }, (_, i) => new Uint8Array(b.subarray(i * n, (i + 1) * n)));
/** The network side of a LayerSource: an async iterable, as a fetch body is. */
async function* net(chunks: Uint8Array[]) {
  for (const c of chunks) yield c;
}

test("owned network chunks are freed after the ingest wrote them and the consumer released them", async () => {
  const cs = store();
  const data = randomBytes(400_000);
  const digest = sha256Digest(data);
  const chunks = pieces(data, 100_000);
  const ingest = cs.ingest(digest, data.byteLength);
  const src = new LayerSource(ingest, net(chunks), () => {}, true);
  const got: Uint8Array[] = [];
  for await (const c of src) got.push(c);
  await ingest.commit();
  // The ingest is done with all of them; the consumer has not said so yet.
  expect(got.map((c) => c.byteLength)).toEqual([100_000, 100_000, 100_000, 100_000]);
  for (const c of got) done(c);
  expect(got.map((c) => c.byteLength)).toEqual([0, 0, 0, 0]);
  expect(Buffer.from(cs.readBytes(digest)).equals(data)).toBe(true);
});

test("without ownsChunks nothing is freed", async () => {
  const cs = store();
  const data = randomBytes(200_000);
  const chunks = pieces(data, 100_000);
  const ingest = cs.ingest(sha256Digest(data), data.byteLength);
  const src = new LayerSource(ingest, net(chunks), () => {});
  for await (const c of src) done(c);
  await ingest.commit();
  expect(chunks.map((c) => c.byteLength)).toEqual([100_000, 100_000]);
});

test("a digest mismatch at the end is thrown to the reader that hit it and to every later one", async () => {
  const cs = store();
  const data = randomBytes(200_000);
  const ingest = cs.ingest(sha256Digest("something else"));
  const src = new LayerSource(ingest, net(pieces(data, 100_000)), () => {});
  await src.next();
  await src.next();
  await expect(src.next()).rejects.toBeInstanceOf(DigestMismatchError);
  await expect(src.drain()).rejects.toBeInstanceOf(DigestMismatchError);
  await ingest.abort(false);
});
