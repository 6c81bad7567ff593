// Manifest shapes and media types: Docker image manifest v2 schema 2 and
// manifest list, OCI image manifest and index (image-spec manifest.md,
// image-index.md). Both families have the same JSON layout for what we use.
import type { Platform } from "./platform.ts";
import { InvalidParameterError } from "../errors.ts";

export const MediaType = {
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  dockerList: "application/vnd.docker.distribution.manifest.list.v2+json",
  dockerConfig: "application/vnd.docker.container.image.v1+json",
  dockerLayer: "application/vnd.docker.image.rootfs.diff.tar.gzip",
  dockerForeignLayer: "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  ociIndex: "application/vnd.oci.image.index.v1+json",
  ociConfig: "application/vnd.oci.image.config.v1+json",
  ociLayer: "application/vnd.oci.image.layer.v1.tar",
  ociLayerGzip: "application/vnd.oci.image.layer.v1.tar+gzip",
  ociLayerZstd: "application/vnd.oci.image.layer.v1.tar+zstd",
} as const;

/** What we send in Accept when fetching a manifest by tag or digest. */
export const MANIFEST_ACCEPT = [MediaType.ociIndex, MediaType.dockerList, MediaType.ociManifest, MediaType.dockerManifest].join(", ");

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: Platform & { "os.version"?: string; "os.features"?: string[] };
  urls?: string[];
  annotations?: Record<string, string>;
}

export interface ImageManifest {
  schemaVersion: 2;
  mediaType?: string;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
}

export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  manifests: Descriptor[];
  annotations?: Record<string, string>;
}

/** The OCI image config (image-spec config.md), the parts we read. */
export interface ImageConfig {
  created?: string;
  author?: string;
  architecture: string;
  os: string;
  variant?: string;
  config?: Record<string, unknown>;
  rootfs: { type: string; diff_ids: string[] };
  history?: { created?: string; created_by?: string; author?: string; comment?: string; empty_layer?: boolean }[];
  [k: string]: unknown;
}

export type AnyManifest = { kind: "manifest"; manifest: ImageManifest } | { kind: "index"; index: ImageIndex };

/** Classifies manifest bytes by the served Content-Type, falling back to the JSON itself. */
export function parseManifest(bytes: Uint8Array, contentType: string | null): AnyManifest {
  let json: any;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new InvalidParameterError("manifest is not valid JSON");
  }
  const mt = (json?.mediaType as string | undefined) ?? contentType?.split(";")[0]?.trim();
  if (json?.schemaVersion === 1) throw new InvalidParameterError("unsupported manifest format: Docker Image manifest version 2, schema 1 is no longer supported");
  if (mt === MediaType.dockerList || mt === MediaType.ociIndex || (Array.isArray(json?.manifests) && !json?.config)) {
    return { kind: "index", index: json as ImageIndex };
  }
  if (json?.config && Array.isArray(json?.layers)) return { kind: "manifest", manifest: json as ImageManifest };
  throw new InvalidParameterError(`unsupported manifest media type ${mt ?? "(none)"}`);
}

/** Layers we can pull; foreign (Windows) layers and non-layer artifacts are refused. */
export function isLayerMediaType(mt: string): boolean {
  return (
    mt === MediaType.dockerLayer ||
    mt === MediaType.ociLayer ||
    mt === MediaType.ociLayerGzip ||
    mt === MediaType.ociLayerZstd ||
    mt === "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
  );
}
