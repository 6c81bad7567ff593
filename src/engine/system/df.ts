import { handle, jobType, type JobDef } from "../engine.ts";
import type { ContainerService } from "../containers/service.ts";
import type { VolumeService } from "../volumes/service.ts";
import type { ImageService } from "../images/service.ts";
import { listView } from "../containers/render.ts";
import { lstatSync, readdirSync } from "node:fs";
import { join } from "node:path";

export const DiskUsageJob = jobType<void, Record<string, unknown>>("system-df");

/** Bytes under a directory (volumes are small on the boxes we target; a walk is fine). */
function duBytes(dir: string): number {
  let total = 0;
  let entries: string[] = [];
  try {
    entries = readdirSync(dir);
  } catch {
    return 0;
  }
  for (const e of entries) {
    const p = join(dir, e);
    try {
      const st = lstatSync(p);
      total += st.isDirectory() ? duBytes(p) : st.size;
    } catch {}
  }
  return total;
}

/** GET /system/df: dockerd's shape (LayersSize, Images, Containers, Volumes, BuildCache). */
export function diskUsageJobs(
  images: ImageService,
  containers: ContainerService,
  volumes: VolumeService,
  layersSize: () => number,
  buildCache: () => unknown[] = () => [],
): JobDef<any, any>[] {
  return [
    handle(DiskUsageJob, async () => {
      const cs = containers.d.store.all();
      const imgs = images.diskUsage().map((i) => ({ ...i, Containers: cs.filter((c) => c.imageId === i.Id).length }));
      const sizeRw = (id: string) => containers.d.rootfs.size?.(id).catch(() => 0) ?? Promise.resolve(0);
      return {
        LayersSize: layersSize(),
        Images: imgs,
        Containers: await Promise.all(cs.map(async (c) => ({ ...listView(c, c.imageId), SizeRw: await sizeRw(c.id), SizeRootFs: 0 }))),
        Volumes: volumes.list().map((v) => ({ ...v, UsageData: { Size: duBytes(v.Mountpoint), RefCount: volumes.users(v.Name).length } })),
        BuildCache: buildCache(),
      };
    }),
  ];
}
