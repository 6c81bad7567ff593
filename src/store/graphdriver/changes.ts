// `docker diff` for both drivers. overlay2 reads the upper dir against the
// merged lower view; vfs compares the rw copy with its parent's tree the way
// Docker's archive.ChangesDirs does (type, mode, owner, size, mtime, rdev,
// link target; directory size is ignored).
import { readlinkSync, type Stats } from "node:fs";
import { join } from "node:path";
import { lstatOrNull } from "../tar/safe-path.ts";
import { walk } from "../tar/tree-walk.ts";
import type { Change } from "./driver.ts";
import { existsInLowers, isOpaque, isWhiteout, lowerChildren } from "./overlay-tree.ts";

function byPath(a: Change, b: Change): number {
  return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
}

export function overlayChanges(upper: string, lowers: readonly string[]): Change[] {
  const out: Change[] = [];
  for (const { path, rel, st } of walk(upper)) {
    if (isWhiteout(st)) {
      if (existsInLowers(lowers, rel)) out.push({ kind: "D", path: `/${rel}` });
      continue;
    }
    const inLower = existsInLowers(lowers, rel);
    out.push({ kind: inLower ? "C" : "A", path: `/${rel}` });
    if (inLower && st.isDirectory() && isOpaque(path)) {
      // An opaque dir hides everything below it; what the upper lacks is gone.
      for (const n of lowerChildren(lowers, rel)) {
        if (!lstatOrNull(join(path, n))) out.push({ kind: "D", path: `/${rel}/${n}` });
      }
    }
  }
  return out.sort(byPath);
}

function sameNode(a: Stats, b: Stats, pa: string, pb: string): boolean {
  if ((a.mode & 0o170000) !== (b.mode & 0o170000)) return false;
  if (a.mode !== b.mode || a.uid !== b.uid || a.gid !== b.gid || a.rdev !== b.rdev) return false;
  if (a.isDirectory()) return Math.floor(a.mtimeMs) === Math.floor(b.mtimeMs);
  if (a.size !== b.size || Math.floor(a.mtimeMs) !== Math.floor(b.mtimeMs)) return false;
  if (a.isSymbolicLink()) return readlinkSync(pa) === readlinkSync(pb);
  return true;
}

/** Changes of the tree `rw` relative to `base` (null: an empty base). */
export function treeChanges(rw: string, base: string | null): Change[] {
  const out: Change[] = [];
  const seen = new Set<string>();
  const added = new Set<string>();
  for (const { path, rel, st } of walk(rw)) {
    seen.add(rel);
    const parent = rel.includes("/") ? rel.slice(0, rel.lastIndexOf("/")) : "";
    const old = base && !added.has(parent) ? lstatOrNull(join(base, rel)) : null;
    if (!old) {
      added.add(rel);
      out.push({ kind: "A", path: `/${rel}` });
    } else if (!sameNode(st, old, path, join(base!, rel))) {
      out.push({ kind: "C", path: `/${rel}` });
    }
  }
  if (base) {
    // Report a deleted dir once, not each of its children (as docker diff does).
    for (const { rel } of walk(base, "", (i) => seen.has(i.rel))) {
      if (!seen.has(rel)) out.push({ kind: "D", path: `/${rel}` });
    }
  }
  return out.sort(byPath);
}

/**
 * Bytes a container's changes hold (dockerd's SizeRw): the sizes of what was
 * added or changed below `root`, directories not counted, a hard-linked inode
 * once (archive.ChangesSize; overlay2's directory.Size of the upper dir is the same sum).
 */
export function changesSize(root: string, changes: readonly Change[]): number {
  const seen = new Set<string>();
  let size = 0;
  for (const ch of changes) {
    if (ch.kind === "D") continue;
    const st = lstatOrNull(join(root, ch.path));
    if (!st || st.isDirectory()) continue;
    const key = `${st.dev}:${st.ino}`;
    if (st.nlink > 1 && seen.has(key)) continue;
    seen.add(key);
    size += st.size;
  }
  return size;
}
