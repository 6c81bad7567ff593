// Docker's volume copy-up: a volume that is empty when a container is
// created gets the image's content at its mount path (files, owners, modes,
// symlinks), so `-v data:/etc/app` starts with the image's /etc/app. Read
// through a read-only view of the container's rootfs, resolved inside it.
import { mkdtempSync, readdirSync, rmdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { mountSpec, unmount, type MountSpec } from "../../kernel/mount.ts";
import { copyTree } from "../../store/graphdriver/copy-tree.ts";
import { secureJoin } from "../execdriver/rootfs.ts";
import { readOnlyView } from "./archive.ts";
import type { MountPoint } from "./mounts.ts";

const isEmptyDir = (p: string) => {
  try {
    return readdirSync(p).length === 0;
  } catch {
    return false;
  }
};

const isDir = (p: string) => {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
};

/** Fills each empty volume from the image; `rootfs` is the container's rootfs mount. */
export function copyUpVolumes(points: readonly MountPoint[], rootfs: MountSpec, tmpParent: string): void {
  const empty = points.filter((p) => p.Type === "volume" && isEmptyDir(p.Source));
  if (!empty.length) return;
  const dir = mkdtempSync(join(tmpParent, "copyup-"));
  mountSpec(readOnlyView(rootfs), dir);
  try {
    for (const p of empty) {
      const src = secureJoin(dir, p.Destination);
      if (isDir(src)) copyTree(src, p.Source);
    }
  } finally {
    unmount(dir, true);
    rmdirSync(dir);
  }
}
