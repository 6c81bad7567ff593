// Walks a directory tree into tar entries: sorted (so archives are
// reproducible), depth-first with parents before children (as Go's
// filepath.Walk in Docker's archive package), hard links detected by inode,
// sockets skipped (tar cannot carry them).
import { lstatSync, readdirSync, readlinkSync, type Stats } from "node:fs";
import { join } from "node:path";
import { lxattrs } from "../../kernel/fs-ffi.ts";
import type { EntryType, TarEntry } from "./tar-writer.ts";

export function major(rdev: number): number {
  return ((rdev >>> 8) & 0xfff) | (Math.floor(rdev / 2 ** 32) & ~0xfff);
}
export function minor(rdev: number): number {
  return (rdev & 0xff) | ((rdev >>> 12) & ~0xff);
}

export function entryType(st: Stats): EntryType | null {
  if (st.isFile()) return "file";
  if (st.isDirectory()) return "directory";
  if (st.isSymbolicLink()) return "symlink";
  if (st.isCharacterDevice()) return "character-device";
  if (st.isBlockDevice()) return "block-device";
  if (st.isFIFO()) return "fifo";
  return null;
}

/** Maps inodes already emitted to their entry name, for hard links. */
export class HardLinks {
  private readonly seen = new Map<string, string>();
  linkFor(st: Stats, name: string): string | undefined {
    if (st.isDirectory() || st.nlink < 2) return undefined;
    const key = `${st.dev}:${st.ino}`;
    const first = this.seen.get(key);
    if (first === undefined) this.seen.set(key, name);
    return first;
  }
}

/** The tar entry describing `path` (named `name`), or null for sockets. */
export function entryFor(path: string, name: string, st: Stats, links: HardLinks, dropXattr?: (k: string) => boolean): TarEntry | null {
  const type = entryType(st);
  if (!type) return null;
  const xattrs = lxattrs(path);
  if (dropXattr) for (const k of [...xattrs.keys()]) if (dropXattr(k)) xattrs.delete(k);
  const base: TarEntry = {
    name,
    type,
    mode: st.mode & 0o7777,
    uid: st.uid,
    gid: st.gid,
    mtime: Math.floor(st.mtimeMs / 1000),
    xattrs,
  };
  const first = links.linkFor(st, name);
  if (first !== undefined) return { ...base, type: "link", linkname: first, size: 0 };
  switch (type) {
    case "file":
      return { ...base, size: st.size, sourcePath: path };
    case "symlink":
      return { ...base, linkname: readlinkSync(path) };
    case "character-device":
    case "block-device":
      return { ...base, devmajor: major(st.rdev), devminor: minor(st.rdev) };
    default:
      return base;
  }
}

export interface WalkItem {
  path: string;
  /** Relative, "/"-separated. */
  rel: string;
  st: Stats;
}

/** Pre-order walk under `root` (root itself excluded); `descend` may prune a dir. */
export function* walk(root: string, rel = "", descend: (i: WalkItem) => boolean = () => true): Generator<WalkItem> {
  const dir = rel ? join(root, rel) : root;
  for (const name of readdirSync(dir).sort()) {
    const r = rel ? `${rel}/${name}` : name;
    const path = join(root, r);
    const st = lstatSync(path);
    const item = { path, rel: r, st };
    yield item;
    if (st.isDirectory() && descend(item)) yield* walk(root, r, descend);
  }
}
