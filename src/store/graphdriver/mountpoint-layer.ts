// The mount targets every container needs (/proc, /dev, /sys and the three
// files the daemon binds into /etc), as a read-only lower layer of their own
// above an image's layers, made once per image chain and shared by its
// containers — what dockerd's per-container init layer holds. Without it
// `ctr init` makes the ones the image lacks in each container's rw layer at
// every start: three mkdirs, three creates and a copy-up of /etc, on an ext4
// without a journal (this VM's) ~2 ms of inode allocation (ext4's
// find_inode_bit skips every recently deleted inode, and --rm containers
// delete theirs all the time), then deleted again with the layer.
//
// The layer must leave the merged view as the image has it: it holds only
// what the image lacks, a directory it shares with the image carries the
// image's mode, owner and mtime (the merged directory shows the topmost
// layer's), and nothing is added under a path the image has as anything but
// a directory (a symlinked /etc is left to the runtime, as before).
import { chmodSync, chownSync, closeSync, mkdirSync, mkdtempSync, openSync, renameSync, rmSync, utimesSync, type Stats } from "node:fs";
import { dirname, join } from "node:path";
import { lstatOrNull } from "../tar/safe-path.ts";
import { isOpaque, isWhiteout } from "./overlay-tree.ts";

/** The runtime's mount targets, relative to the root. */
export const RUNTIME_TARGETS: readonly { path: string; dir: boolean }[] = [
  { path: "proc", dir: true },
  { path: "dev", dir: true },
  { path: "sys", dir: true },
  { path: "etc/hostname", dir: false },
  { path: "etc/hosts", dir: false },
  { path: "etc/resolv.conf", dir: false },
];

/**
 * What the merged view of `lowers` (diff dirs, top first) has at `rel`: the
 * topmost entry's stat, or null when nothing is visible there (absent,
 * whited out, or hidden by an opaque or non-directory entry above it).
 */
export function mergedStat(lowers: readonly string[], rel: string): Stats | null {
  const parts = rel.split("/").filter(Boolean);
  let layers = lowers;
  for (let i = 0; i < parts.length; i++) {
    const sub = parts.slice(0, i + 1).join("/");
    let found: Stats | null = null;
    let below: string[] = [];
    for (let j = 0; j < layers.length; j++) {
      const st = lstatOrNull(join(layers[j]!, sub));
      if (!st) continue;
      if (isWhiteout(st)) return null;
      found = st;
      // A directory merges with the directories below it, down to an opaque one or to
      // anything but a directory (overlayfs.rst "Directories"); layers without the name don't count.
      if (st.isDirectory()) {
        for (let k = j; k < layers.length; k++) {
          const s = k === j ? st : lstatOrNull(join(layers[k]!, sub));
          if (!s) continue;
          if (!s.isDirectory()) break;
          below.push(layers[k]!);
          if (isOpaque(join(layers[k]!, sub))) break;
        }
      }
      break;
    }
    if (!found) return null;
    if (i === parts.length - 1) return found;
    if (!found.isDirectory()) return null;
    layers = below;
  }
  return null;
}

/** Whether every component above `rel` is a directory or absent (never a symlink or file) in the merged view. */
function plainParents(lowers: readonly string[], rel: string): boolean {
  for (let p = dirname(rel); p !== "."; p = dirname(p)) {
    const st = mergedStat(lowers, p);
    if (st && !st.isDirectory()) return false;
  }
  return true;
}

/** A directory of the layer: the image's own attributes where it has it, else runc's 0755 root. */
function makeDir(layer: string, lowers: readonly string[], rel: string): void {
  const path = join(layer, rel);
  if (lstatOrNull(path)) return;
  const parent = dirname(rel);
  if (parent !== ".") makeDir(layer, lowers, parent);
  mkdirSync(path, 0o755);
  const img = mergedStat(lowers, rel);
  if (!img) return;
  chownSync(path, img.uid, img.gid);
  chmodSync(path, img.mode & 0o7777);
}

/** Directories' mtimes last (creating the entries below changed them), deepest first. */
function copyTimes(layer: string, lowers: readonly string[], dirs: string[]): void {
  for (const rel of [...dirs].sort((a, b) => b.length - a.length)) {
    const img = mergedStat(lowers, rel);
    if (img) utimesSync(join(layer, rel), img.atime, img.mtime);
  }
}

/**
 * Makes the mount-target layer of `lowers` at `dest` (renamed into place
 * whole: a start meanwhile never sees half of it). It is made under
 * `tmpPrefix` (the layer store's .tmp, same filesystem: a crash leaves it
 * where the next start empties it, not beside the layer for good). Another
 * start making it at the same time is fine: the first rename wins, the
 * other copy goes.
 */
export function buildMountpointLayer(dest: string, lowers: readonly string[], tmpPrefix: string): void {
  const tmp = mkdtempSync(tmpPrefix);
  try {
    // Its root never shows: the merged root is the rw layer's (it always has one).
    chmodSync(tmp, 0o755);
    const dirs = new Set<string>();
    for (const t of RUNTIME_TARGETS) {
      if (mergedStat(lowers, t.path) || !plainParents(lowers, t.path)) continue;
      for (let p = dirname(t.path); p !== "."; p = dirname(p)) dirs.add(p);
      if (dirname(t.path) !== ".") makeDir(tmp, lowers, dirname(t.path));
      if (t.dir) mkdirSync(join(tmp, t.path), 0o755);
      else closeSync(openSync(join(tmp, t.path), "wx", 0o755));
    }
    copyTimes(tmp, lowers, [...dirs]);
    try {
      renameSync(tmp, dest);
    } catch (e) {
      if (!lstatOrNull(dest)) throw e;
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
