// `ctr commit`: a container's rw layer (its diff, deletions as whiteouts)
// becomes the top layer of a new image whose parent is the container's image.
import type { ContentStore } from "../../store/content-store.ts";
import type { ImageStore } from "../../store/image-store.ts";
import type { LayerStore } from "../../store/layers/layer-store.ts";
import type { ImageConfig } from "../distribution/manifest.ts";
import { NotFoundError } from "../errors.ts";
import { applyChanges } from "../images/config-changes.ts";
import { ingestLayerTar } from "../images/layer-ingest.ts";
import { recordNewImage } from "../images/new-image.ts";
import type { Container } from "./types.ts";

export interface CommitRequest {
  ref: string;
  /** "repo[:tag]" */
  reference?: string;
  comment?: string;
  author?: string;
  /** Pause a running container while its diff is read (Docker's default). */
  pause: boolean;
  /** Dockerfile instructions: `CMD ["sh"]`, `ENV A=b`, … */
  changes: string[];
  /** Config fields from the request body that override the container's. */
  config?: Record<string, unknown>;
}

export interface CommitDeps {
  get(ref: string): Container;
  pause(ref: string): Promise<void>;
  unpause(ref: string): Promise<void>;
  content: ContentStore;
  layers: LayerStore;
  images: ImageStore;
  tmpDir: string;
}

/** Fields of a container's Config that describe this container, not an image. */
const NOT_IMAGE_CONFIG = ["Hostname", "Domainname", "AttachStdin", "AttachStdout", "AttachStderr", "Tty", "OpenStdin", "StdinOnce", "Image"];

export async function commitContainer(d: CommitDeps, r: CommitRequest): Promise<{ Id: string }> {
  const c = d.get(r.ref);
  const parent = d.images.get(c.imageId);
  if (!parent) throw new NotFoundError(`No such image: ${c.imageRef}`);
  const runConfig = applyChanges(imageRunConfig(c, r.config), r.changes);
  const pause = r.pause && c.state.Running && !c.state.Paused;
  if (pause) await d.pause(c.id);
  let layer;
  try {
    layer = await ingestLayerTar(d, d.layers.diffTar(c.id), parent.topLayer);
  } finally {
    if (pause) await d.unpause(c.id).catch(() => {});
  }
  const image = recordNewImage(d, {
    parent: { record: parent, config: JSON.parse(parent.config) as ImageConfig },
    layer,
    runConfig,
    history: { createdBy: [...(c.config.Entrypoint ?? []), ...(c.config.Cmd ?? [])].join(" "), comment: r.comment, author: r.author },
    reference: r.reference,
    extra: { container: c.id },
  });
  return { Id: image.id };
}

function imageRunConfig(c: Container, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(c.config)) if (!NOT_IMAGE_CONFIG.includes(k)) out[k] = v;
  for (const [k, v] of Object.entries(overrides)) if (v !== undefined && v !== null && v !== "") out[k] = v;
  return out;
}
