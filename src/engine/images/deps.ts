// What the image jobs need from the parts below them. The daemon passes the
// real stores; unit tests may pass a fake LayerApplier.
import type { ContentReader, ContentWriter } from "../../store/content-store.ts";
import type { ImageStore } from "../../store/image-store.ts";
import type { RegistryClient } from "../distribution/registry-client.ts";
import type { Platform } from "../distribution/platform.ts";
import type { LayerRecord } from "../../store/layers/layer-store.ts";

/** A layer as the layer store records it. */
export type AppliedLayer = LayerRecord;

/** The part of LayerStore a pull uses (LayerStore satisfies it). */
export interface LayerApplier {
  get(chainId: string): AppliedLayer | null;
  /** Extracts an uncompressed tar whose sha256 must equal diffId; atomic and idempotent. */
  apply(req: { diffId: string; parentChainId: string | null }, tar: AsyncIterable<Uint8Array>): Promise<AppliedLayer>;
}

/** What rmi/prune need to delete layers (LayerStore satisfies it). */
export interface LayerRemover {
  remove(chainId: string, isInUse?: (chainId: string) => boolean): Promise<void>;
}

export interface ImageDeps {
  registry: RegistryClient;
  content: ContentReader & ContentWriter;
  layers: LayerApplier & Partial<LayerRemover>;
  images: ImageStore;
  /** Parallel layer downloads per pull (Docker's --max-concurrent-downloads, default 3). */
  maxConcurrentDownloads?: number;
  /** Parallel blob uploads per push (default 5 like dockerd). */
  maxConcurrentUploads?: number;
  /** Blobs larger than this are pushed in PATCH chunks of this size (default 16 MiB). */
  uploadChunkSize?: number;
  /** The platform to pick from an index when none is asked for (default: this machine). */
  platform?: Platform;
  /** Is an image used by a container? rmi refuses unless forced. */
  imageInUse?: (imageId: string) => string | null;
  /** A running container of the image, if any (a conflict force does not override). */
  imageRunningIn?: (imageId: string) => string | null;
}
