// `ctr save` / GET /images/get: images as ONE tar that is both a
// docker-archive (manifest.json + repositories, as `docker load` reads) and
// an OCI image layout (oci-layout + index.json), like docker 25+'s save.
// Both views share the files under blobs/sha256/: the config, and each layer
// as an uncompressed tar (so its digest is its diffID). Layers are inflated
// from the content store's compressed blobs one at a time into a temp file
// (a tar header needs the size first) and deleted once streamed.
import { createWriteStream, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { pipeline } from "node:stream/promises";
import type { ContentStore } from "../../store/content-store.ts";
import type { ImageRecord, ImageStore } from "../../store/image-store.ts";
import { decompressStream } from "../../store/tar/decompress.ts";
import { toReadable } from "../../store/tar/byte-source.ts";
import { tarBytes, type TarEntry } from "../../store/tar/tar-writer.ts";
import { MediaType, type ImageConfig } from "../distribution/manifest.ts";
import { EngineError } from "../errors.ts";

export interface SaveDeps {
  content: ContentStore;
  images: ImageStore;
  tmpDir: string;
  /** What the user typed → the image and the tags to record for it. */
  resolve(name: string): { image: ImageRecord; tags: string[] };
}

const hex = (digest: string) => digest.replace(/^sha256:/, "");
const blobPath = (digest: string) => `blobs/sha256/${hex(digest)}`;

function fileEntry(name: string, size: number, sourcePath: string): TarEntry {
  return { name, type: "file", mode: 0o644, uid: 0, gid: 0, mtime: 0, size, sourcePath };
}

export function saveImages(d: SaveDeps, names: string[]): ReadableStream<Uint8Array> {
  const wanted = new Map<string, { image: ImageRecord; tags: string[] }>();
  for (const n of names) {
    const r = d.resolve(n);
    const prev = wanted.get(r.image.id);
    wanted.set(r.image.id, { image: r.image, tags: [...new Set([...(prev?.tags ?? []), ...r.tags])] });
  }
  return toReadable(tarBytes(entries(d, [...wanted.values()])));
}

async function* entries(d: SaveDeps, images: { image: ImageRecord; tags: string[] }[]): AsyncGenerator<TarEntry> {
  const dir = (name: string): TarEntry => ({ name, type: "directory", mode: 0o755, uid: 0, gid: 0, mtime: 0 });
  yield dir("blobs");
  yield dir("blobs/sha256");
  const written = new Set<string>();
  const manifests: { Config: string; RepoTags: string[]; Layers: string[] }[] = [];
  const index: Record<string, unknown>[] = [];
  const repositories: Record<string, Record<string, string>> = {};
  const small = new Map<string, Uint8Array>();
  for (const { image, tags } of images) {
    const config = JSON.parse(image.config) as ImageConfig;
    if (!written.has(image.id)) {
      written.add(image.id);
      yield fileEntry(blobPath(image.id), statSync(d.content.path(image.id)).size, d.content.path(image.id));
    }
    const layers: { digest: string; size: number }[] = [];
    for (const diffId of config.rootfs.diff_ids) {
      const size = yield* layerEntry(d, diffId, written);
      layers.push({ digest: diffId, size });
    }
    manifests.push({ Config: blobPath(image.id), RepoTags: tags, Layers: config.rootfs.diff_ids.map(blobPath) });
    for (const t of tags) {
      const i = t.lastIndexOf(":");
      (repositories[t.slice(0, i)] ??= {})[t.slice(i + 1)] = hex(image.id);
    }
    // The OCI view: one manifest per image, named by each tag in index.json.
    const manifest = new TextEncoder().encode(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaType.ociManifest,
        config: { mediaType: MediaType.ociConfig, digest: image.id, size: statSync(d.content.path(image.id)).size },
        layers: layers.map((l) => ({ mediaType: MediaType.ociLayer, digest: l.digest, size: l.size })),
      }),
    );
    const mdigest = `sha256:${new Bun.CryptoHasher("sha256").update(manifest).digest("hex")}`;
    small.set(blobPath(mdigest), manifest);
    const desc = { mediaType: MediaType.ociManifest, digest: mdigest, size: manifest.byteLength };
    if (!tags.length) index.push(desc);
    for (const t of tags) index.push({ ...desc, annotations: { "io.containerd.image.name": t, "org.opencontainers.image.ref.name": t.slice(t.lastIndexOf(":") + 1) } });
  }
  const json = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
  small.set("manifest.json", json(manifests));
  small.set("repositories", json(repositories));
  small.set("oci-layout", json({ imageLayoutVersion: "1.0.0" }));
  small.set("index.json", json({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: index }));
  for (const [name, bytes] of small) yield* smallFile(d, name, bytes);
}

/** Streams one layer (once per archive); returns its uncompressed size. */
async function* layerEntry(d: SaveDeps, diffId: string, written: Set<string>): AsyncGenerator<TarEntry, number> {
  const blob = d.images.blobsForDiff(diffId).find((b) => d.content.has(b.digest));
  if (!blob) throw new EngineError(`cannot save layer ${diffId}: its blob is not in the content store`);
  const tmp = join(d.tmpDir, `save-${randomBytes(8).toString("hex")}.tar`);
  try {
    const h = new Bun.CryptoHasher("sha256");
    const hashed = async function* () {
      for await (const c of decompressStream(d.content.open(blob.digest))) {
        h.update(c);
        yield c;
      }
    };
    await pipeline(hashed(), createWriteStream(tmp));
    if (`sha256:${h.digest("hex")}` !== diffId) throw new EngineError(`layer blob ${blob.digest} does not match diffID ${diffId}`);
    const size = statSync(tmp).size;
    if (!written.has(diffId)) {
      written.add(diffId);
      yield fileEntry(blobPath(diffId), size, tmp);
    }
    return size;
  } finally {
    // tarBytes has read the file by the time the generator is resumed.
    rmSync(tmp, { force: true });
  }
}

async function* smallFile(d: SaveDeps, name: string, bytes: Uint8Array): AsyncGenerator<TarEntry> {
  const tmp = join(d.tmpDir, `save-${randomBytes(8).toString("hex")}`);
  await Bun.write(tmp, bytes);
  try {
    yield fileEntry(name, bytes.byteLength, tmp);
  } finally {
    rmSync(tmp, { force: true });
  }
}

