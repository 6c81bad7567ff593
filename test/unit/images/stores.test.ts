// Content store ingest/verify/resume and image store refs, deletes and sharing.
import { afterEach, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ContentStore, DigestMismatchError, sha256Digest } from "../../../src/store/content-store.ts";
import { ImageStore } from "../../../src/store/image-store.ts";
import { openDatabase } from "../../../src/store/db.ts";

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), "ctr-stores-"));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

test("writeBytesAsync: stored once awaited, nothing left in tmp; a wrong digest throws at once", async () => {
  const d = tmp();
  const cs = new ContentStore(join(d, "blobs"), join(d, "tmp"));
  const bytes = new TextEncoder().encode('{"config":true}');
  const digest = sha256Digest(bytes);
  expect(() => cs.writeBytesAsync(bytes, sha256Digest("other"))).toThrow(DigestMismatchError);
  const p = cs.writeBytesAsync(bytes, digest);
  expect(await p).toBe(digest);
  expect(cs.readJson(digest)).toEqual({ config: true });
  expect(readdirSync(join(d, "tmp"))).toEqual([]);
  expect(await cs.writeBytesAsync(bytes)).toBe(digest); // there already: nothing written
});

test("ingest: resume a partial, verify, rename; mismatch refused and deleted", async () => {
  const d = tmp();
  const cs = new ContentStore(join(d, "blobs"), join(d, "tmp"));
  const data = new TextEncoder().encode("hello content store ".repeat(1000));
  const digest = sha256Digest(data);
  const a = cs.ingest(digest, data.byteLength);
  expect(() => cs.ingest(digest)).toThrow("already running");
  await a.write(data.subarray(0, 5000));
  await a.abort(true);
  const b = cs.ingest(digest, data.byteLength);
  expect(b.offset).toBe(5000);
  let replayed = 0;
  for await (const c of b.replay()) replayed += c.byteLength;
  expect(replayed).toBe(5000);
  await b.write(data.subarray(5000));
  await b.commit();
  expect(cs.has(digest)).toBe(true);
  expect(cs.readBytes(digest)).toEqual(data);
  expect(readdirSync(join(d, "tmp"))).toEqual([]);

  const wrong = sha256Digest("something else");
  const c = cs.ingest(wrong);
  await c.write(data);
  await expect(c.commit()).rejects.toThrow(DigestMismatchError);
  expect(() => cs.writeBytes(data, wrong)).toThrow(wrong);
  expect(cs.has(wrong)).toBe(false);
  expect(readdirSync(join(d, "tmp"))).toEqual([]);
});

test("cleanTmp drops staging files and old partials, keeps fresh ones", async () => {
  const d = tmp();
  const cs = new ContentStore(join(d, "blobs"), join(d, "tmp"));
  const digest = sha256Digest("x");
  const i = cs.ingest(digest);
  await i.write(new Uint8Array([1]));
  await i.abort(true);
  writeFileSync(join(d, "tmp", "write-abc"), "x");
  expect(cs.cleanTmp()).toEqual(["write-abc"]);
  expect(existsSync(cs.partialPath(digest))).toBe(true);
  expect(cs.cleanTmp(-1)).toEqual([`ingest-${digest.slice(7)}.partial`]);
});

test("image store: add atomically, refs, prefix, usage, delete reports unused layers", () => {
  const d = tmp();
  const db = openDatabase(join(d, "ctr.db"));
  try {
    const layer = (c: string, p: string | null, size: number) =>
      db.query("INSERT INTO layers (chain_id, diff_id, parent, cache_id, size, created_at) VALUES (?, ?, ?, ?, ?, 0)").run(c, c, p, c.slice(7), size);
    const L = (n: number) => `sha256:${String(n).repeat(64).slice(0, 64)}`;
    layer(L(1), null, 100);
    layer(L(2), L(1), 20);
    layer(L(3), L(1), 30);
    const st = new ImageStore(db);
    const idA = `sha256:${"a".repeat(64)}`;
    const idB = `sha256:${"ab".repeat(32)}`;
    st.add({ id: idA, config: "{}", chainIds: [L(1), L(2)], manifestDigest: null, size: 120, created: 1 }, [{ name: "docker.io/library/a:latest", kind: "tag" }]);
    const { retagged } = st.add({ id: idB, config: "{}", chainIds: [L(1), L(3)], manifestDigest: null, size: 130, created: 2 }, [
      { name: "docker.io/library/a:latest", kind: "tag" },
      { name: "docker.io/library/b:1", kind: "tag" },
    ]);
    expect(retagged).toEqual([idA]);
    expect(st.byRef("docker.io/library/a:latest")?.id).toBe(idB);
    expect(st.byIdPrefix("a").map((i) => i.id)).toEqual([idA, idB]);
    expect(st.byIdPrefix("sha256:aa").map((i) => i.id)).toEqual([idA]);
    expect(st.imagesSharingLayer(L(1))).toEqual([idA, idB]);
    expect(st.usage(idA)).toEqual({
      layers: [
        { chainId: L(1), size: 100, sharedWith: 1 },
        { chainId: L(2), size: 20, sharedWith: 0 },
      ],
      uniqueSize: 20,
      sharedSize: 100,
    });
    expect(st.delete(idA)).toEqual({ unusedLayers: [L(2)] });
    expect(st.delete(idB)).toEqual({ unusedLayers: [L(3), L(1)] });
    expect(st.allRefs()).toEqual([]);
  } finally {
    db.close();
  }
});
