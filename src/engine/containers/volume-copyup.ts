// Docker's volume copy-up: a volume that is empty when a container is
// created gets the image's content at its mount path (files, owners, modes,
// symlinks), so `-v data:/etc/app` starts with the image's /etc/app. Read
// through a read-only view of the container's rootfs, resolved inside it.
import { readdirSync } from "node:fs";
import { mountTemp, readOnlyView, type MountSpec } from "../../kernel/mount.ts";
import { copyTree } from "../../store/graphdriver/copy-tree.ts";
import { secureJoin } from "../execdriver/rootfs.ts";
import { isDir, type MountPoint } from "./mounts.ts";

const isEmptyDir = (p: string) => {
  try {
    return readdirSync(p).length === 0;
  } catch {
    return false;
  }
};

/** Fills each empty volume from the image; `rootfs` is the container's rootfs mount. */
export function copyUpVolumes(points: readonly MountPoint[], rootfs: MountSpec, tmpParent: string): void {
  const empty = points.filter((p) => p.Type === "volume" && isEmptyDir(p.Source));
  if (!empty.length) return;
  const { dir, release } = mountTemp(readOnlyView(rootfs), tmpParent, "copyup-");
  try {
    for (const p of empty) {
      const src = secureJoin(dir, p.Destination);
      if (isDir(src)) copyTree(src, p.Source);
    }
  } finally {
    release();
  }
}
