// A step's view of a filesystem: a writable one over the parent image whose
// changes become the step's layer (COPY, ADD, WORKDIR), or a read-only one of
// a stage's image (COPY --from). Both are a scratch rw layer of the layer
// store mounted under tmp/, released on every path out.
import { mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { mountTemp, readOnlyView } from "../../kernel/mount.ts";
import type { ContentStore } from "../../store/content-store.ts";
import type { ImageStore } from "../../store/image-store.ts";
import type { LayerStore } from "../../store/layers/layer-store.ts";
import { ingestLayerTar, type IngestedLayer } from "../images/layer-ingest.ts";

export interface RootfsDeps {
  layers: LayerStore;
  content: ContentStore;
  images: ImageStore;
  tmpDir: string;
}

const scratchId = () => `build-${randomBytes(16).toString("hex")}`;

/** Runs `fn` on a writable rootfs over `topLayer`; what it changed becomes a layer. */
export async function withWritableLayer(d: RootfsDeps, topLayer: string | null, fn: (rootfs: string) => Promise<void>): Promise<IngestedLayer> {
  const id = scratchId();
  const spec = await d.layers.createRw(id, topLayer);
  try {
    const view = mountTemp(spec, d.tmpDir, "build-");
    try {
      await fn(view.dir);
    } finally {
      view.release();
    }
    return await ingestLayerTar(d, d.layers.diffTar(id), topLayer);
  } finally {
    await d.layers.removeRw(id).catch(() => {});
  }
}

/** Runs `fn` on a read-only view of an image's files (an empty dir for scratch). */
export async function withImageView<T>(d: RootfsDeps, topLayer: string | null, fn: (rootfs: string) => Promise<T>): Promise<T> {
  if (!topLayer) {
    const dir = mkdtempSync(join(d.tmpDir, "build-"));
    try {
      return await fn(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const id = scratchId();
  const spec = await d.layers.createRw(id, topLayer);
  try {
    const view = mountTemp(readOnlyView(spec), d.tmpDir, "build-");
    try {
      return await fn(view.dir);
    } finally {
      view.release();
    }
  } finally {
    await d.layers.removeRw(id).catch(() => {});
  }
}

/** A read-only view of an image's files held open until `release` (RUN --mount=from=…). */
export async function openImageView(d: RootfsDeps, topLayer: string | null): Promise<{ dir: string; release: () => Promise<void> }> {
  if (!topLayer) {
    const dir = mkdtempSync(join(d.tmpDir, "build-"));
    return { dir, release: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const id = scratchId();
  const spec = await d.layers.createRw(id, topLayer);
  let view;
  try {
    view = mountTemp(readOnlyView(spec), d.tmpDir, "build-");
  } catch (e) {
    await d.layers.removeRw(id).catch(() => {});
    throw e;
  }
  const v = view;
  return {
    dir: v.dir,
    release: async () => {
      v.release();
      await d.layers.removeRw(id).catch(() => {});
    },
  };
}
