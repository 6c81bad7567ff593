// Docker's volume copy-up: a volume that is empty when a container is
// created gets the image's content at its mount path (files, owners, modes,
// symlinks), so `-v data:/etc/app` starts with the image's /etc/app. Read
// through a read-only view of the container's rootfs, resolved inside it.
//
// A copy-up is done completely or redone: a marker beside the volume's _data
// (outside it, so no container sees it) is written before the copy and removed
// only after it. A daemon killed mid-copy leaves the marker; the next create
// that mounts the volume empties what was copied and copies again, instead of
// taking a half-filled volume for a used one.
import { existsSync, readdirSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { mountTemp, readOnlyView, type MountSpec } from "../../kernel/mount.ts";
import { copyTree } from "../../store/graphdriver/copy-tree.ts";
import { secureJoin } from "../execdriver/rootfs.ts";
import { isDir, type MountPoint } from "./mounts.ts";

export const COPYUP_MARKER = ".copyup-pending";

const isEmptyDir = (p: string) => {
  try {
    return readdirSync(p).length === 0;
  } catch {
    return false;
  }
};

const markerOf = (p: MountPoint) => join(dirname(p.Source), COPYUP_MARKER);

/** An empty volume, or one whose last copy-up never finished. */
export function needsCopyUp(p: MountPoint): boolean {
  return p.Type === "volume" && (existsSync(markerOf(p)) || isEmptyDir(p.Source));
}

/** Fills each empty volume from the image; `rootfs` is the container's rootfs mount. */
export function copyUpVolumes(points: readonly MountPoint[], rootfs: MountSpec, tmpParent: string): void {
  const todo = points.filter(needsCopyUp);
  if (!todo.length) return;
  const { dir, release } = mountTemp(readOnlyView(rootfs), tmpParent, "copyup-");
  try {
    for (const p of todo) {
      const marker = markerOf(p);
      // What an interrupted copy left is ours alone: the volume was empty when it began.
      if (existsSync(marker)) for (const n of readdirSync(p.Source)) rmSync(join(p.Source, n), { recursive: true, force: true });
      else writeFileSync(marker, "");
      const src = secureJoin(dir, p.Destination);
      if (isDir(src)) copyTree(src, p.Source);
      unlinkSync(marker);
    }
  } finally {
    release();
  }
}
