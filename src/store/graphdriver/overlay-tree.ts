// Reading overlayfs upper/lower dirs (Documentation/filesystems/overlayfs.rst):
// whiteouts are 0:0 char devices, opaque dirs carry trusted.overlay.opaque=y.
import { readdirSync, type Stats } from "node:fs";
import { join } from "node:path";
import { lgetxattr } from "../../kernel/fs-ffi.ts";
import { lstatOrNull } from "../tar/safe-path.ts";
import { OVERLAY_OPAQUE_XATTR } from "../tar/whiteout.ts";

export function isWhiteout(st: Stats): boolean {
  return st.isCharacterDevice() && st.rdev === 0;
}

export function isOpaque(path: string): boolean {
  return lgetxattr(path, OVERLAY_OPAQUE_XATTR)?.toString() === "y";
}

/** Whether `rel` is visible in the merged view of `lowers` (diff dirs, top first). */
export function existsInLowers(lowers: readonly string[], rel: string): boolean {
  const parts = rel.split("/");
  for (const lower of lowers) {
    let cur = lower;
    let hidesBelow = false;
    for (let i = 0; i < parts.length; i++) {
      cur = join(cur, parts[i]!);
      const st = lstatOrNull(cur);
      if (!st) break;
      if (isWhiteout(st)) return false;
      if (i === parts.length - 1) return true;
      if (!st.isDirectory()) return false;
      if (isOpaque(cur)) hidesBelow = true;
    }
    if (hidesBelow) return false;
  }
  return false;
}

/** Names visible in dir `rel` of the merged lower view. */
export function lowerChildren(lowers: readonly string[], rel: string): Set<string> {
  const out = new Set<string>();
  const hidden = new Set<string>();
  for (const lower of lowers) {
    const dir = join(lower, rel);
    const st = lstatOrNull(dir);
    if (!st) continue;
    if (!st.isDirectory()) break;
    for (const n of readdirSync(dir)) {
      if (out.has(n) || hidden.has(n)) continue;
      const cst = lstatOrNull(join(dir, n));
      if (cst && isWhiteout(cst)) hidden.add(n);
      else out.add(n);
    }
    if (isOpaque(dir)) break;
  }
  return out;
}
