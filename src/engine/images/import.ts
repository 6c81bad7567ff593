// `ctr import` / POST /images/create?fromSrc=: a rootfs tarball (plain, gzip
// or zstd) becomes a one-layer image with no parent.
import type { ContentStore } from "../../store/content-store.ts";
import type { ImageStore } from "../../store/image-store.ts";
import type { LayerStore } from "../../store/layers/layer-store.ts";
import { decompressStream } from "../../store/tar/decompress.ts";
import { toReadable, type ByteSource } from "../../store/tar/byte-source.ts";
import { applyChanges } from "./config-changes.ts";
import { ingestLayerTar } from "./layer-ingest.ts";
import { recordNewImage } from "./new-image.ts";

export interface ImportRequest {
  tar: ByteSource;
  reference?: string;
  message?: string;
  changes: string[];
  /** What the history says it came from (a file name, a URL, "-"). */
  source: string;
}

export async function importImage(d: { content: ContentStore; layers: LayerStore; images: ImageStore; tmpDir: string }, r: ImportRequest): Promise<{ id: string }> {
  const runConfig = applyChanges({}, r.changes);
  const layer = await ingestLayerTar(d, toReadable(decompressStream(r.tar)), null);
  const image = recordNewImage(d, {
    parent: null,
    layer,
    runConfig,
    history: { createdBy: `Imported from ${r.source}`, comment: r.message },
    reference: r.reference,
  });
  return { id: image.id };
}
