// Pull against Debian's docker-registry on 127.0.0.1 with images built from scratch.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { haveRegistry, startRegistry, type RunningRegistry } from "../../helpers/registry.ts";
import { busybox, haveBusybox, multiLayer, multiPlatform, zstdImage, randomImage } from "../../../scripts/fixtures/images.ts";
import { pushImage, pushIndex, type BuiltImage, type BuiltIndex } from "../../../scripts/fixtures/oci.ts";
import { storeEnv, type StoreEnv } from "./env.ts";
import { NotFoundError } from "../../../src/engine/errors.ts";
import { chainIdsOf } from "../../../src/store/layers/chain-id.ts";
import { deferred } from "../../../src/engine/images/singleflight.ts";

const skip = !haveRegistry || !haveBusybox || process.getuid?.() !== 0;
if (skip) console.warn("skipping image pull tests: needs root, /usr/bin/docker-registry and /bin/busybox (busybox-static)");

describe.skipIf(skip)("pull from docker-registry", () => {
  let reg: RunningRegistry;
  let bb: BuiltImage;
  let ml: BuiltImage;
  let mp: BuiltIndex;
  let zs: BuiltImage;
  const envs: StoreEnv[] = [];
  const env = () => {
    const e = storeEnv();
    envs.push(e);
    return e;
  };

  beforeAll(async () => {
    reg = await startRegistry();
    bb = await busybox();
    ml = await multiLayer();
    mp = await multiPlatform();
    zs = await zstdImage();
    await pushImage(reg.host, "library/busybox", "latest", bb);
    await pushImage(reg.host, "test/multi", "v1", ml);
    await pushIndex(reg.host, "test/multiarch", "latest", mp);
    await pushImage(reg.host, "test/zstd", "latest", zs);
  });
  afterAll(async () => {
    for (const e of envs) e.close();
    await reg?.stop();
  });

  test("busybox: layers, config, refs and progress messages", async () => {
    const e = env();
    const out: any[] = [];
    const ctx = { stdout: { write: (m: unknown) => out.push(m) }, setProgress: () => {} } as any;
    const r = await e.puller.pull(ctx, { ref: `${reg.host}/library/busybox` });
    expect(r.image.id).toBe(bb.config.digest);
    expect(r.digest).toBe(bb.manifest.digest);
    expect(r.updated).toBe(true);
    expect(e.images.refsOf(r.image.id).map((x) => x.name)).toEqual([`${reg.host}/library/busybox:latest`, `${reg.host}/library/busybox@${bb.manifest.digest}`].sort());
    const layer = e.layers.get(bb.layers[0]!.diffId)!;
    const bin = readFileSync(join(e.layers.driver.diffPath(layer.cacheId), "bin/busybox"));
    expect(bin.byteLength).toBe(readFileSync("/bin/busybox").byteLength);
    expect(e.content.has(bb.layers[0]!.digest)).toBe(true);
    expect(e.content.has(bb.manifest.digest)).toBe(true);
    const statuses = out.map((m) => m.status);
    expect(statuses[0]).toBe("Pulling from library/busybox");
    expect(statuses).toContain("Pulling fs layer");
    expect(statuses).toContain("Pull complete");
    expect(statuses).toContain(`Digest: ${bb.manifest.digest}`);
    expect(statuses.at(-1)).toBe(`Status: Downloaded newer image for ${reg.host}/library/busybox:latest`);
    // Second pull: nothing downloaded, up to date.
    const out2: any[] = [];
    const r2 = await e.puller.pull({ stdout: { write: (m: unknown) => out2.push(m) }, setProgress: () => {} } as any, { ref: `${reg.host}/library/busybox:latest` });
    expect(r2.updated).toBe(false);
    expect(out2.map((m) => m.status)).toContain("Already exists");
    expect(out2.at(-1).status).toBe(`Status: Image is up to date for ${reg.host}/library/busybox:latest`);
  });

  test("multi-layer docker schema2 image with whiteouts and a zstd image", async () => {
    const e = env();
    const r = await e.puller.pull(null, { ref: `${reg.host}/test/multi:v1` });
    const chains = chainIdsOf(ml.layers.map((l) => l.diffId));
    expect(r.image.chainIds).toEqual(chains);
    const top = e.layers.get(chains[2]!)!;
    expect(e.layers.driver.name).toBe("vfs");
    const tree = readdirSync(e.layers.driver.diffPath(top.cacheId)).sort();
    expect(tree).toEqual(["data", "etc", "hard-a", "hard-b", "link-to-keep", "owned", "pipe", "usr-bin-tool"]);
    expect(readdirSync(join(e.layers.driver.diffPath(top.cacheId), "data"))).toEqual(["new"]);
    expect(readdirSync(join(e.layers.driver.diffPath(top.cacheId), "etc"))).toEqual(["keep"]);
    const z = await e.puller.pull(null, { ref: `${reg.host}/test/zstd` });
    expect(z.image.id).toBe(zs.config.digest);
  });

  test("platform selection from an index, --platform override, digest refs", async () => {
    const e = env();
    const platformOf = (id: string) => {
      const img = e.images.get(id)!;
      const l = e.layers.get(img.topLayer!)!;
      return readFileSync(join(e.layers.driver.diffPath(l.cacheId), "platform"), "utf8").trim();
    };
    const amd = await e.puller.pull(null, { ref: `${reg.host}/test/multiarch` });
    expect(amd.digest).toBe(mp.index.digest);
    expect(platformOf(amd.image.id)).toBe("linux/amd64");
    const arm = await e.puller.pull(null, { ref: `${reg.host}/test/multiarch`, platform: "linux/arm/v7" });
    expect(platformOf(arm.image.id)).toBe("linux/arm/v7");
    const arm64 = await e.puller.pull(null, { ref: `${reg.host}/test/multiarch`, platform: "linux/arm64" });
    expect(platformOf(arm64.image.id)).toBe("linux/arm64/v8");
    await expect(e.puller.pull(null, { ref: `${reg.host}/test/multiarch`, platform: "linux/s390x" })).rejects.toThrow("no matching manifest for linux/s390x");
    const byDigest = await e.puller.pull(null, { ref: `${reg.host}/test/multiarch@${mp.images[1]!.manifest.digest}` });
    expect(platformOf(byDigest.image.id)).toBe("linux/arm64/v8");
    expect(e.images.byRef(`${reg.host}/test/multiarch@${mp.images[1]!.manifest.digest}`)?.id).toBe(byDigest.image.id);
  });

  test("unknown tag and unknown repository are NotFoundError with Docker's words", async () => {
    const e = env();
    const p1 = e.puller.pull(null, { ref: `${reg.host}/library/busybox:nope` });
    await expect(p1).rejects.toBeInstanceOf(NotFoundError);
    await expect(e.puller.pull(null, { ref: `${reg.host}/library/busybox:nope` })).rejects.toThrow(`manifest for ${reg.host}/library/busybox:nope not found: manifest unknown`);
    // distribution answers MANIFEST_UNKNOWN for a missing repository too (dockerd shows the same line).
    await expect(e.puller.pull(null, { ref: `${reg.host}/nosuch/repo` })).rejects.toBeInstanceOf(NotFoundError);
  });

  test("a corrupt blob is refused, named, not kept, and leaves no image", async () => {
    const img = await randomImage(1, 200_000);
    await pushImage(reg.host, "test/corrupt", "latest", img);
    const d = img.layers[0]!.digest.slice(7);
    const data = join(reg.storage, "docker/registry/v2/blobs/sha256", d.slice(0, 2), d, "data");
    const bytes = readFileSync(data);
    bytes[bytes.length - 30]! ^= 0xff;
    writeFileSync(data, bytes);
    const e = env();
    await expect(e.puller.pull(null, { ref: `${reg.host}/test/corrupt` })).rejects.toThrow(img.layers[0]!.digest);
    expect(e.content.has(img.layers[0]!.digest)).toBe(false);
    expect(readdirSync(join(e.root, "tmp"))).toEqual([]);
    expect(e.images.list()).toEqual([]);
    expect(e.layers.list()).toEqual([]);
  });

  test("rmi: untag while other tags remain, then delete image, layers and blobs", async () => {
    const { ImageService } = await import("../../../src/engine/images/service.ts");
    const e = env();
    const svc = new ImageService(e.deps);
    await e.puller.pull(null, { ref: `${reg.host}/library/busybox` });
    svc.tag(`${reg.host}/library/busybox`, "mine/bb", "1");
    expect(svc.list().map((i) => i.RepoTags)).toEqual([[`${reg.host}/library/busybox:latest`, "mine/bb:1"]]);
    expect(await svc.remove("mine/bb:1")).toEqual([{ Untagged: "mine/bb:1" }]);
    const out = await svc.remove(`${reg.host}/library/busybox`);
    expect(out).toEqual([
      { Untagged: `${reg.host}/library/busybox:latest` },
      { Untagged: `${reg.host}/library/busybox@${bb.manifest.digest}` },
      { Deleted: bb.config.digest },
      { Deleted: bb.layers[0]!.diffId },
    ]);
    expect(e.layers.list()).toEqual([]);
    expect(e.content.has(bb.layers[0]!.digest)).toBe(false);
    expect(e.content.has(bb.manifest.digest)).toBe(false);
    expect(() => svc.resolve("busybox")).toThrow("No such image: busybox");
  });

  test("concurrent pulls of one image download each blob once", async () => {
    const img = await randomImage(3, 100_000);
    await pushImage(reg.host, "test/concurrent", "latest", img);
    const gets = new Map<string, number>();
    const e = storeEnv({
      fetch: (u, i) => {
        const m = /\/blobs\/(sha256:[a-f0-9]+)$/.exec(new URL(u).pathname);
        if (m && (i?.method ?? "GET") === "GET") gets.set(m[1]!, (gets.get(m[1]!) ?? 0) + 1);
        return fetch(u, i);
      },
    });
    envs.push(e);
    const rs = await Promise.all([1, 2, 3].map(() => e.puller.pull(null, { ref: `${reg.host}/test/concurrent` })));
    expect(new Set(rs.map((r) => r.image.id)).size).toBe(1);
    for (const l of img.layers) expect(gets.get(l.digest)).toBe(1);
  });

  test("a layer's download slot is free once it is downloaded and applied, before its blob is committed", async () => {
    const img = await randomImage(2, 100_000);
    await pushImage(reg.host, "test/slots", "latest", img);
    const e = storeEnv({}, { maxConcurrentDownloads: 1 });
    envs.push(e);
    const second = deferred();
    let secondBeforeFirstCommitted = false;
    const ingest = e.content.ingest.bind(e.content);
    e.content.ingest = (digest, size) => {
      const i = ingest(digest, size);
      if (digest === img.layers[1]!.digest) second.resolve();
      if (digest !== img.layers[0]!.digest) return i;
      const commit = i.commit.bind(i);
      i.commit = async () => {
        // With one slot, the second layer can start only if the first let its slot go already.
        secondBeforeFirstCommitted = await Promise.race([second.promise.then(() => true), Bun.sleep(3_000).then(() => false)]);
        return commit();
      };
      return i;
    };
    const r = await e.puller.pull(null, { ref: `${reg.host}/test/slots` });
    expect(r.image.id).toBe(img.config.digest);
    expect(secondBeforeFirstCommitted).toBe(true);
    for (const l of img.layers) expect(e.content.has(l.digest)).toBe(true);
  });
});
