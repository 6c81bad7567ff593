// Both drivers through the LayerStore: a 3-layer chain with a whiteout and an
// opaque dir; overlay2 is mounted for real (root) and vfs is read as a tree;
// then a container rw layer is changed and its changes/diffTar checked.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { extract as tarExtract } from "tar-stream";
import { openDatabase } from "../../../src/store/db.ts";
import { lostFoundAt } from "../../../src/store/lost-found.ts";
import { LayerStore, chainIdOf } from "../../../src/store/layers/layer-store.ts";
import { newOverlay2Driver, overlaySupported } from "../../../src/store/graphdriver/overlay2.ts";
import { newVfsDriver } from "../../../src/store/graphdriver/vfs.ts";
import type { LayerDriver } from "../../../src/store/graphdriver/driver.ts";
import { mountSpec, unmount } from "../../../src/kernel/mount.ts";
import { LayerRejectedError } from "../../../src/store/tar/errors.ts";
import { buildTar, collect, sha256 } from "./tar-build.ts";

const isRoot = process.getuid?.() === 0;
const work = mkdtempSync(join(tmpdir(), "ctr-drivers-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
if (!isRoot) console.warn("skipping layer driver integration tests: need root (owners, devices, trusted xattrs, mount)");

const L1 = () =>
  buildTar([
    { name: "a", type: "directory" },
    { name: "a/file1", body: "1" },
    { name: "a/file2", body: "2" },
    { name: "b", type: "directory" },
    { name: "b/x", body: "x" },
    { name: "c", type: "directory" },
    { name: "c/keep", body: "k" },
  ]);
const L2 = () =>
  buildTar([
    { name: "a", type: "directory" },
    { name: "a/.wh.file1", body: "" },
    { name: "b", type: "directory" },
    { name: "b/.wh..wh..opq", body: "" },
    { name: "b/y", body: "y" },
  ]);
const L3 = () =>
  buildTar([
    { name: "c", type: "directory" },
    { name: "c/new", body: "n" },
    { name: "d", type: "directory" },
  ]);

/** Every path (with "/" for dirs) in a merged tree. */
function listing(root: string, rel = ""): string[] {
  const out: string[] = [];
  for (const n of readdirSync(join(root, rel)).sort()) {
    const r = rel ? `${rel}/${n}` : n;
    const isDir = existsSync(join(root, r)) && readdirSync(join(root, rel), { withFileTypes: true }).find((e) => e.name === n)!.isDirectory();
    out.push(isDir ? `${r}/` : r);
    if (isDir) out.push(...listing(root, r));
  }
  return out;
}

const MERGED = ["a/", "a/file2", "b/", "b/y", "c/", "c/keep", "c/new", "d/"];

async function tarNames(s: ReadableStream<Uint8Array>): Promise<string[]> {
  const buf = await collect(s);
  const ex = tarExtract();
  const names: string[] = [];
  const done = (async () => {
    for await (const e of ex) {
      names.push(e.header.name);
      e.resume();
    }
  })();
  ex.end(buf);
  await done;
  return names;
}

async function applyChain(store: LayerStore, parallel: boolean): Promise<string> {
  const tars = [await L1(), await L2(), await L3()];
  const ids: string[] = [];
  for (const t of tars) ids.push(chainIdOf(ids[ids.length - 1] ?? null, sha256(t)));
  const req = (i: number) => ({ diffId: sha256(tars[i]!), parentChainId: i ? ids[i - 1]! : null });
  if (parallel) {
    // Top first, so children really start before their parents exist.
    await Promise.all([2, 1, 0].map((i) => store.apply(req(i), [tars[i]!])));
  } else {
    for (const i of [0, 1, 2]) await store.apply(req(i), [tars[i]!]);
  }
  return ids[2]!;
}

interface Case {
  name: string;
  make(home: string): LayerDriver;
  /** Where the container's merged rootfs can be read while `body` runs. */
  withRootfs(spec: ReturnType<LayerDriver["rwMount"]>, body: (root: string) => Promise<void>): Promise<void>;
  skip: boolean;
}

const overlayOk = isRoot && overlaySupported(work);
if (isRoot && !overlayOk) console.warn("skipping overlay2 driver tests: kernel lacks overlay or the test dir is on overlayfs");

const cases: Case[] = [
  {
    name: "overlay2",
    make: newOverlay2Driver,
    skip: !overlayOk,
    async withRootfs(spec, body) {
      const target = mkdtempSync(join(work, "merged-"));
      mountSpec(spec, target);
      try {
        await body(target);
      } finally {
        unmount(target);
        rmSync(target, { recursive: true, force: true });
      }
    },
  },
  {
    name: "vfs",
    make: newVfsDriver,
    skip: !isRoot,
    async withRootfs(spec, body) {
      await body(spec.source);
    },
  },
];

for (const c of cases) {
  describe.skipIf(c.skip)(`${c.name} driver`, () => {
    test("a 3-layer chain with whiteout and opaque dir gives the right merged view; rw changes and diff tar", async () => {
      const dir = mkdtempSync(join(work, `${c.name}-`));
      const db = openDatabase(join(dir, "ctr.db"));
      try {
        const store = new LayerStore(db, c.make(join(dir, "layers")));
        const top = await applyChain(store, c.name === "overlay2");
        expect(store.chain(top).map((r) => r.parent === null)).toEqual([false, false, true]);
        expect(store.chainSize(top)).toBe(6);
        // Idempotent: the same chain again is the same record.
        const again = await applyChain(store, false);
        expect(store.get(again)).toEqual(store.get(top));

        const spec = await store.createRw("c1", top);
        expect(spec.type).toBe(c.name === "overlay2" ? "overlay" : "bind");
        await c.withRootfs(spec, async (root) => {
          expect(listing(root)).toEqual(MERGED);
          writeFileSync(join(root, "c/keep"), "changed");
          unlinkSync(join(root, "a/file2"));
          writeFileSync(join(root, "d/added"), "+");
          mkdirSync(join(root, "e/f"), { recursive: true });
          symlinkSync("/etc/passwd", join(root, "e/f/link"));
        });
        expect(await store.changes("c1")).toEqual([
          { kind: "C", path: "/a" },
          { kind: "D", path: "/a/file2" },
          // overlay copies /c up to change /c/keep; vfs sees /c's mtime unchanged (Docker alike).
          ...(c.name === "overlay2" ? [{ kind: "C" as const, path: "/c" }] : []),
          { kind: "C", path: "/c/keep" },
          { kind: "C", path: "/d" },
          { kind: "A", path: "/d/added" },
          { kind: "A", path: "/e" },
          { kind: "A", path: "/e/f" },
          { kind: "A", path: "/e/f/link" },
        ]);
        expect(await tarNames(store.diffTar("c1"))).toEqual(["a/", "a/.wh.file2", ...(c.name === "overlay2" ? ["c/"] : []), "c/keep", "d/", "d/added", "e/", "e/f/", "e/f/link"]);

        // Commit: the diff becomes a 4th layer; a new container on it sees the change.
        const diff = await collect(store.diffTar("c1"));
        const rec = await store.apply({ diffId: sha256(diff), parentChainId: top }, [diff]);
        await store.createRw("c2", rec.chainId);
        await c.withRootfs(store.rwMount("c2"), async (root) => {
          expect(listing(root)).toEqual(["a/", "b/", "b/y", "c/", "c/keep", "c/new", "d/", "d/added", "e/", "e/f/", "e/f/link"]);
          expect(readFileSync(join(root, "c/keep"), "utf8")).toBe("changed");
        });

        await store.removeRw("c1");
        await store.removeRw("c2");
        await expect(store.remove(top)).rejects.toThrow("child layers");
        await expect(store.remove(rec.chainId, () => true)).rejects.toThrow("used by a container");
        await store.remove(rec.chainId);
        expect(store.get(rec.chainId)).toBeNull();
      } finally {
        db.close();
      }
    });

    test("a refused layer leaves no half layer, no row, no temp dir", async () => {
      const dir = mkdtempSync(join(work, `${c.name}-bad-`));
      const db = openDatabase(join(dir, "ctr.db"));
      try {
        const driver = c.make(join(dir, "layers"));
        const store = new LayerStore(db, driver);
        const bad = await buildTar([{ name: "ok", body: "fine" }, { name: "../evil", body: "x" }]);
        await expect(store.apply({ diffId: sha256(bad), parentChainId: null }, [bad])).rejects.toBeInstanceOf(LayerRejectedError);
        expect(store.list()).toEqual([]);
        expect(driver.layerIds()).toEqual([]);
        expect(readdirSync(join(dir, "layers", ".tmp"))).toEqual([]);
        expect(existsSync(join(dir, "evil"))).toBe(false);
      } finally {
        db.close();
      }
    });

    test("repair drops temp dirs and rows without dirs, moves dirs without rows aside", async () => {
      const dir = mkdtempSync(join(work, `${c.name}-repair-`));
      const db = openDatabase(join(dir, "ctr.db"));
      try {
        const driver = c.make(join(dir, "layers"));
        const store = new LayerStore(db, driver);
        const t = await L1();
        const rec = await store.apply({ diffId: sha256(t), parentChainId: null }, [t]);
        await driver.create("orphan", null);
        mkdirSync(join(dir, "layers", ".tmp", "half"));
        db.query("INSERT INTO layers (chain_id, diff_id, parent, cache_id, size, created_at) VALUES ('sha256:gone', 'sha256:gone', NULL, 'gonecache', 0, 0)").run();
        const report = await store.repair(lostFoundAt(dir));
        expect(report).toEqual({ removedTemp: true, removedRows: ["sha256:gone"], brokenRows: [], movedAside: ["orphan"] });
        expect(driver.layerIds()).toEqual([rec.cacheId]);
        // Never deleted: kept under lost+found with its content.
        const kept = readdirSync(join(dir, "lost+found", "layers"));
        expect(kept).toEqual([expect.stringMatching(/^orphan-/)]);
        expect(existsSync(join(dir, "lost+found", "layers", kept[0]!, "diff"))).toBe(true);
        expect(readdirSync(join(dir, "layers", ".tmp"))).toEqual([]);
      } finally {
        db.close();
      }
    });
  });
}

describe.skipIf(!overlayOk)("overlay2: a volatile rw layer (--rm)", () => {
  test("mounts with volatile, keeps what was written, and mounts again despite the kernel's incompat mark", async () => {
    const dir = mkdtempSync(join(work, "overlay2-volatile-"));
    const db = openDatabase(join(dir, "ctr.db"));
    const target = mkdtempSync(join(work, "merged-volatile-"));
    try {
      const store = new LayerStore(db, newOverlay2Driver(join(dir, "layers")));
      const top = await applyChain(store, false);
      await store.createRw("v1", top);
      expect(store.rwMount("v1").options).not.toContain("volatile");
      const spec = store.rwMount("v1", { volatile: true });
      expect(spec.options).toContain("volatile");
      mountSpec(spec, target);
      try {
        writeFileSync(join(target, "d/written"), "w");
      } finally {
        unmount(target);
      }
      // The kernel leaves its mark, and refuses a mount of the same upper while it is there.
      const mark = join(dir, "layers", "rw", "v1", "work", "work", "incompat", "volatile");
      expect(existsSync(mark)).toBe(true);
      for (const again of [store.rwMount("v1"), store.rwMount("v1", { volatile: true })]) {
        mountSpec(again, target);
        try {
          expect(readFileSync(join(target, "d/written"), "utf8")).toBe("w");
        } finally {
          unmount(target);
        }
      }
    } finally {
      rmSync(target, { recursive: true, force: true });
      db.close();
    }
  });
});

describe.skipIf(!isRoot)("vfs: a symlink in a lower layer", () => {
  test("cannot be written through by an upper layer", async () => {
    const dir = mkdtempSync(join(work, "vfs-lower-link-"));
    const outside = join(dir, "outside");
    mkdirSync(outside);
    const db = openDatabase(join(dir, "ctr.db"));
    try {
      const store = new LayerStore(db, newVfsDriver(join(dir, "layers")));
      const lower = await buildTar([{ name: "s", type: "symlink", linkname: outside }]);
      const l1 = await store.apply({ diffId: sha256(lower), parentChainId: null }, [lower]);
      const upper = await buildTar([{ name: "s/evil", body: "x" }]);
      const p = store.apply({ diffId: sha256(upper), parentChainId: l1.chainId }, [upper]);
      await expect(p).rejects.toThrow("would write through symlink s");
      expect(readdirSync(outside)).toEqual([]);
    } finally {
      db.close();
    }
  });
});
