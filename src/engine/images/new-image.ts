// A new image from a new top layer: `ctr commit` (on a container's image) and
// `ctr import` (on nothing). The config is the parent's plus one layer and one
// history entry, recorded like a pulled image (without a manifest: push
// makes one from the layer blobs).
import type { ContentWriter } from "../../store/content-store.ts";
import type { ImageRecord, ImageStore } from "../../store/image-store.ts";
import type { ImageConfig } from "../distribution/manifest.ts";
import { isTag, parseNormalized, refString } from "../distribution/reference.ts";
import { InvalidParameterError } from "../errors.ts";
import { goArch } from "../../arch.ts";
import type { IngestedLayer } from "./layer-ingest.ts";

export interface NewImageRequest {
  parent: { record: ImageRecord; config: ImageConfig } | null;
  layer: IngestedLayer;
  /** The runtime config (Docker's `config`: Cmd, Env, …). */
  runConfig: Record<string, unknown>;
  history: { createdBy: string; comment?: string; author?: string };
  /** "repo[:tag]" to name it, or none. */
  reference?: string;
  /** Extra top-level config fields (commit's `container`). */
  extra?: Record<string, unknown>;
}

/** "repo" / "repo:tag" → a normalised tag reference (Docker's default tag is latest). */
export function tagReference(s: string): string {
  const ref = parseNormalized(s);
  if (ref.digest) throw new InvalidParameterError(`invalid reference format: a digest cannot name a new image`);
  const tag = ref.tag ?? "latest";
  if (!isTag(tag)) throw new InvalidParameterError(`invalid tag format`);
  return refString({ ...ref, tag });
}

export function recordNewImage(d: { content: ContentWriter; images: ImageStore }, r: NewImageRequest): ImageRecord {
  const created = new Date().toISOString();
  const base = r.parent?.config;
  const config: ImageConfig = {
    ...(r.extra ?? {}),
    architecture: base?.architecture ?? goArch(),
    os: base?.os ?? "linux",
    ...(base?.variant ? { variant: base.variant } : {}),
    created,
    ...(r.history.author ? { author: r.history.author } : {}),
    config: r.runConfig,
    rootfs: { type: "layers", diff_ids: [...(base?.rootfs.diff_ids ?? []), r.layer.diffId] },
    history: [
      ...(base?.history ?? []),
      {
        created,
        created_by: r.history.createdBy,
        ...(r.history.author ? { author: r.history.author } : {}),
        ...(r.history.comment ? { comment: r.history.comment } : {}),
      },
    ],
  };
  const bytes = new TextEncoder().encode(JSON.stringify(config));
  const id = d.content.writeBytes(bytes);
  const parentLayers = r.parent?.record.chainIds ?? [];
  const refs = r.reference ? [{ name: tagReference(r.reference), kind: "tag" as const }] : [];
  const { image } = d.images.add(
    {
      id,
      config: new TextDecoder().decode(bytes),
      chainIds: [...parentLayers, r.layer.layer.chainId],
      manifestDigest: null,
      parent: r.parent?.record.id ?? null,
      size: (r.parent?.record.size ?? 0) + r.layer.layer.size,
      created: Math.floor(Date.parse(created) / 1000),
    },
    refs,
  );
  return image;
}
