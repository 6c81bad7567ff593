// A layer tar that we made (commit, import, load) becomes a layer of the
// store: its diffID, the extracted layer on top of a parent, and a gzip blob
// in the content store so the image can be pushed like a pulled one.
import { createReadStream, createWriteStream, rmSync } from "node:fs";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { createGzip } from "node:zlib";
import { pipeline } from "node:stream/promises";
import { Transform } from "node:stream";
import type { ContentStore } from "../../store/content-store.ts";
import type { ImageStore } from "../../store/image-store.ts";
import type { LayerRecord, LayerStore } from "../../store/layers/layer-store.ts";
import { MediaType } from "../distribution/manifest.ts";

export interface LayerIngestDeps {
  content: ContentStore;
  layers: LayerStore;
  images: ImageStore;
  /** A directory on the store's filesystem for staging files. */
  tmpDir: string;
}

export interface IngestedLayer {
  layer: LayerRecord;
  diffId: string;
  /** The compressed blob recorded for push. */
  blob: { digest: string; size: number };
}

/** Passes bytes through while hashing them (sha256) and counting them. */
function hashing(): { stream: Transform; digest: () => string; size: () => number } {
  const h = new Bun.CryptoHasher("sha256");
  let n = 0;
  const stream = new Transform({
    transform(chunk: Buffer, _e, cb) {
      h.update(chunk);
      n += chunk.length;
      cb(null, chunk);
    },
  });
  return { stream, digest: () => `sha256:${h.digest("hex")}`, size: () => n };
}

/**
 * Stages the uncompressed tar on disk (hashing it: the diffID), gzips it into
 * the content store, then applies it through the layer store, which extracts
 * with the same safety checks as a pulled layer.
 */
export async function ingestLayerTar(d: LayerIngestDeps, tar: ReadableStream<Uint8Array>, parentChainId: string | null): Promise<IngestedLayer> {
  const stem = join(d.tmpDir, `layer-${randomBytes(8).toString("hex")}`);
  const tarPath = `${stem}.tar`;
  const gzPath = `${stem}.tar.gz`;
  try {
    const raw = hashing();
    await pipeline(tar as unknown as AsyncIterable<Uint8Array>, raw.stream, createWriteStream(tarPath));
    const diffId = raw.digest();
    const gz = hashing();
    await pipeline(createReadStream(tarPath), createGzip(), gz.stream, createWriteStream(gzPath));
    const blob = { digest: gz.digest(), size: gz.size() };
    d.content.adopt(gzPath, blob.digest);
    const layer = await d.layers.apply({ diffId, parentChainId }, Bun.file(tarPath).stream());
    d.images.recordLayerBlob({ digest: blob.digest, diffId, mediaType: MediaType.dockerLayer, size: blob.size, source: null });
    return { layer, diffId, blob };
  } finally {
    rmSync(tarPath, { force: true });
    rmSync(gzPath, { force: true });
  }
}
