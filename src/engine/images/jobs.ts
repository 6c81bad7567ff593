// Image jobs: typed names the routes run (src/server/routes/images.ts) and
// the handlers bound to an ImageDeps. One job per API verb.
import { handle, jobType, type JobDef } from "../engine.ts";
import type { Credentials } from "../distribution/credentials.ts";
import type { ImageDeps } from "./deps.ts";
import { Puller, type PullResult } from "./pull.ts";
import { Pusher, type PushResult } from "./push.ts";
import { ImageService, type DeleteItem, type Filters, type ImageSummary, type TreeImage } from "./service.ts";

export const PullJob = jobType<{ ref: string; platform?: string; auth?: Credentials | null }, PullResult>("pull");
export const PushJob = jobType<{ ref: string; auth?: Credentials | null }, PushResult>("push");
export const ImagesListJob = jobType<{ all?: boolean; filters?: Filters; digests?: boolean; sharedSize?: boolean }, ImageSummary[]>("images");
export const ImageTreeJob = jobType<{ filters?: Filters }, TreeImage[]>("image-tree");
export const ImageInspectJob = jobType<{ ref: string }, Record<string, unknown>>("image-inspect");
export const HistoryJob = jobType<{ ref: string }, ReturnType<ImageService["history"]>>("history");
export const TagJob = jobType<{ source: string; repo: string; tag?: string }, void>("tag");
export const RemoveImageJob = jobType<{ ref: string; force?: boolean; noprune?: boolean }, DeleteItem[]>("rmi");
export const ImagePruneJob = jobType<{ filters?: Filters }, { ImagesDeleted: DeleteItem[] | null; SpaceReclaimed: number }>("image-prune");
export const SaveJob = jobType<{ names: string[] }, ReadableStream<Uint8Array>>("save");
export const LoadJob = jobType<{ tar: ReadableStream<Uint8Array>; quiet?: boolean }, void>("load");

export interface ImageParts {
  service: ImageService;
  puller: Puller;
  pusher: Pusher;
  jobs: JobDef<any, any>[];
}

/** Builds the image service and its jobs over the daemon's stores and registry client. */
export function imageJobs(d: ImageDeps): ImageParts {
  const service = new ImageService(d);
  const puller = new Puller(d);
  const pusher = new Pusher(d);
  const jobs: JobDef<any, any>[] = [
    handle(
      PullJob,
      (ctx, a) => puller.pull(ctx, a),
      (a) => [a.ref, ...(a.platform ? [`--platform=${a.platform}`] : [])],
    ),
    handle(
      PushJob,
      (ctx, a) => {
        ctx.ready();
        return pusher.push(ctx, a);
      },
      (a) => [a.ref],
    ),
    handle(ImagesListJob, (_c, a) => service.list(a.filters ?? {}, { sharedSize: a.sharedSize, all: a.all })),
    handle(ImageTreeJob, (_c, a) => service.tree(a.filters ?? {})),
    handle(ImageInspectJob, (_c, a) => service.inspect(a.ref), (a) => [a.ref]),
    handle(HistoryJob, (_c, a) => service.history(a.ref), (a) => [a.ref]),
    handle(TagJob, (_c, a) => service.tag(a.source, a.repo, a.tag), (a) => [a.source, `${a.repo}:${a.tag ?? "latest"}`]),
    handle(RemoveImageJob, (_c, a) => service.remove(a.ref, !!a.force, !!a.noprune), (a) => [a.ref]),
    handle(ImagePruneJob, (_c, a) => service.prune(a.filters ?? {})),
  ];
  return { service, puller, pusher, jobs };
}
