// save/load jobs: image archives in and out (docker-archive + OCI layout).
import { handle, type JobDef } from "../engine.ts";
import type { ContentStore } from "../../store/content-store.ts";
import type { ImageStore } from "../../store/image-store.ts";
import type { LayerStore } from "../../store/layers/layer-store.ts";
import { parseNormalized, refString, withDefaultTag } from "../distribution/reference.ts";
import { familiarize } from "../distribution/reference.ts";
import { loadImages } from "./archive-load.ts";
import { saveImages } from "./archive-save.ts";
import { LoadJob, SaveJob } from "./jobs.ts";
import type { ImageService } from "./service.ts";

export interface ArchiveJobDeps {
  service: ImageService;
  content: ContentStore;
  layers: LayerStore;
  images: ImageStore;
  tmpDir: string;
}

/** The tag a name stands for when it is one (`busybox` → busybox:latest); an id or digest names no tag. */
function tagOf(name: string, imageId: string, images: ImageStore): string[] {
  try {
    const full = refString(withDefaultTag(parseNormalized(name)));
    return images.byRef(full)?.id === imageId && !full.includes("@") ? [familiarize(full)] : [];
  } catch {
    return [];
  }
}

export function archiveJobs(d: ArchiveJobDeps): JobDef<any, any>[] {
  const resolve = (name: string) => {
    const image = d.service.resolve(name);
    return { image, tags: tagOf(name, image.id, d.images) };
  };
  return [
    handle(SaveJob, (_c, a) => saveImages({ ...d, resolve }, a.names), (a) => a.names),
    handle(LoadJob, async (ctx, a) => {
      ctx.ready();
      // dockerd's quiet=1 drops progress bars only; the "Loaded image" lines always come.
      await loadImages(d, a.tar, (line) => ctx.stdout.write({ stream: line }));
    }),
  ];
}
