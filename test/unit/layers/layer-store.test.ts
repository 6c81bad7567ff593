// LayerStore logic against a fake driver: idempotence, waiting on an in-flight
// apply, parent ordering for drivers that need it, and atomic rows.
import { describe, expect, test } from "bun:test";
import { openDatabase } from "../../../src/store/db.ts";
import { LayerStore, chainIdOf } from "../../../src/store/layers/layer-store.ts";
import type { LayerDriver, MountSpec } from "../../../src/store/graphdriver/driver.ts";
import type { ByteSource } from "../../../src/store/tar/byte-source.ts";

interface Gate {
  promise: Promise<void>;
  open(): void;
}
function gate(): Gate {
  let open!: () => void;
  const promise = new Promise<void>((r) => (open = r));
  return { promise, open };
}

class FakeDriver implements LayerDriver {
  readonly name = "vfs" as const;
  readonly home = "/fake";
  readonly layers = new Map<string, string | null>();
  readonly calls: { id: string; parent: string | null; parentDone: boolean }[] = [];
  readonly gates = new Map<string, Gate>();
  failWith: Error | null = null;
  constructor(readonly needsParent: boolean) {}
  async create(id: string, parent: string | null) {
    this.layers.set(id, parent);
  }
  async applyTar(id: string, parent: string | null, tar: ByteSource) {
    this.calls.push({ id, parent, parentDone: parent === null || this.layers.has(parent) });
    let size = 0;
    for await (const c of tar as AsyncIterable<Uint8Array>) size += c.byteLength;
    const body = Buffer.from(new Uint8Array(size)).toString();
    await this.gates.get(body.length.toString())?.promise;
    if (this.failWith) throw this.failWith;
    this.layers.set(id, parent);
    return { diffId: "", tarSize: size, size, entries: 0 };
  }
  diffPath(id: string) {
    return `/fake/${id}`;
  }
  exists(id: string) {
    return this.layers.has(id);
  }
  async remove(id: string) {
    this.layers.delete(id);
  }
  layerIds() {
    return [...this.layers.keys()];
  }
  cleanupTemp() {}
  async createRw(): Promise<MountSpec> {
    return { type: "bind", source: "/x", options: [] };
  }
  rwMount(): MountSpec {
    return { type: "bind", source: "/x", options: [] };
  }
  async removeRw() {}
  setAsideRw() {
    return null;
  }
  rwIds() {
    return [];
  }
  async rwSize() {
    return 0;
  }
  async changes() {
    return [];
  }
  diffTar(): ReadableStream<Uint8Array> {
    return new ReadableStream();
  }
}

const D1 = `sha256:${"1".repeat(64)}`;
const D2 = `sha256:${"2".repeat(64)}`;
const bytes = (n: number) => [new Uint8Array(n)];

function setup(needsParent: boolean) {
  const db = openDatabase(":memory:");
  const driver = new FakeDriver(needsParent);
  return { db, driver, store: new LayerStore(db, driver) };
}

describe("LayerStore.apply", () => {
  test("is idempotent and concurrent applies of one chain share the first", async () => {
    const { driver, store } = setup(false);
    const g = gate();
    driver.gates.set("3", g);
    const a = store.apply({ diffId: D1, parentChainId: null }, bytes(3));
    const b = store.apply({ diffId: D1, parentChainId: null }, bytes(3));
    expect(store.get(D1)).toBeNull(); // no row before the dir is complete
    g.open();
    const [ra, rb] = await Promise.all([a, b]);
    expect(rb).toEqual(ra);
    expect(driver.calls.length).toBe(1);
    expect(await store.apply({ diffId: D1, parentChainId: null }, bytes(3))).toEqual(ra);
    expect(driver.calls.length).toBe(1);
    expect(ra).toMatchObject({ chainId: D1, diffId: D1, parent: null, size: 3 });
  });

  test("a driver that needs the parent waits for the in-flight parent", async () => {
    const { driver, store } = setup(true);
    const g = gate();
    driver.gates.set("1", g);
    const parent = store.apply({ diffId: D1, parentChainId: null }, bytes(1));
    const child = store.apply({ diffId: D2, parentChainId: D1 }, bytes(2));
    await Bun.sleep(0);
    expect(driver.calls.length).toBe(1);
    g.open();
    const [p, c] = await Promise.all([parent, child]);
    expect(driver.calls[1]).toEqual({ id: c.cacheId, parent: p.cacheId, parentDone: true });
    expect(c.chainId).toBe(chainIdOf(D1, D2));
    expect(store.chain(c.chainId).map((r) => r.diffId)).toEqual([D2, D1]);
  });

  test("a driver that does not need the parent applies children first", async () => {
    const { driver, store } = setup(false);
    const child = await store.apply({ diffId: D2, parentChainId: D1 }, bytes(2));
    expect(driver.calls).toEqual([{ id: child.cacheId, parent: null, parentDone: true }]);
    expect(child.parent).toBe(D1);
    expect(() => store.chain(child.chainId)).toThrow("not found");
  });

  test("a missing parent is an error for drivers that need it", async () => {
    const { store } = setup(true);
    await expect(store.apply({ diffId: D2, parentChainId: D1 }, bytes(2))).rejects.toThrow("parent layer");
  });

  test("a failed apply leaves no row and can be retried", async () => {
    const { driver, store } = setup(false);
    driver.failWith = new Error("boom");
    await expect(store.apply({ diffId: D1, parentChainId: null }, bytes(1))).rejects.toThrow("boom");
    expect(store.get(D1)).toBeNull();
    driver.failWith = null;
    expect((await store.apply({ diffId: D1, parentChainId: null }, bytes(1))).chainId).toBe(D1);
  });

  test("remove refuses while an image lists the layer", async () => {
    const { db, store } = setup(false);
    await store.apply({ diffId: D1, parentChainId: null }, bytes(1));
    db.query("INSERT INTO images (id, config, top_layer, size, created, added_at) VALUES ('img', '{}', ?, 1, 0, 0)").run(D1);
    db.query("INSERT INTO image_layers (image_id, idx, chain_id) VALUES ('img', 0, ?)").run(D1);
    expect(store.imagesUsing(D1)).toEqual(["img"]);
    await expect(store.remove(D1)).rejects.toThrow("used by image img");
    db.query("DELETE FROM images WHERE id = 'img'").run();
    await store.remove(D1);
    expect(store.usage()).toEqual({ count: 0, size: 0 });
  });
});
