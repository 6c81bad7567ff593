// vfs layers are full copies (Docker's vfs driver, daemon/graphdriver/vfs):
// everything is preserved — owners, modes incl. setuid, xattrs, devices,
// FIFOs, hard links (as links), symlinks and all mtimes.
import {
  chmodSync, constants, copyFileSync, linkSync, lchownSync, lutimesSync, mkdirSync, readlinkSync, symlinkSync,
} from "node:fs";
import { join } from "node:path";
import { lsetxattr, lxattrs, mknod, S_IFBLK, S_IFCHR, S_IFIFO } from "../../kernel/fs-ffi.ts";
import { major, minor, walk } from "../tar/tree-walk.ts";
import type { Stats } from "node:fs";
import { lstatSync } from "node:fs";

function copyMeta(src: string, dst: string, st: Stats): void {
  lchownSync(dst, st.uid, st.gid);
  if (!st.isSymbolicLink()) chmodSync(dst, st.mode & 0o7777);
  for (const [k, v] of lxattrs(src)) lsetxattr(dst, k, v);
}

/** Copies the contents and root metadata of `src` into the existing empty dir `dst`. */
export function copyTree(src: string, dst: string): void {
  const links = new Map<string, string>();
  const dirs: { path: string; st: Stats }[] = [];
  for (const { path, rel, st } of walk(src)) {
    const to = join(dst, rel);
    if (!st.isDirectory() && st.nlink > 1) {
      const key = `${st.dev}:${st.ino}`;
      const first = links.get(key);
      if (first) {
        linkSync(first, to);
        continue;
      }
      links.set(key, to);
    }
    if (st.isDirectory()) mkdirSync(to, 0o700);
    else if (st.isFile()) copyFileSync(path, to, constants.COPYFILE_FICLONE);
    else if (st.isSymbolicLink()) symlinkSync(readlinkSync(path), to);
    else if (st.isCharacterDevice()) mknod(to, S_IFCHR, 0o600, major(st.rdev), minor(st.rdev));
    else if (st.isBlockDevice()) mknod(to, S_IFBLK, 0o600, major(st.rdev), minor(st.rdev));
    else if (st.isFIFO()) mknod(to, S_IFIFO, 0o600);
    else continue; // sockets belong to a running process, not to a layer
    copyMeta(path, to, st);
    if (st.isDirectory()) dirs.push({ path: to, st });
    else lutimesSync(to, st.atimeMs / 1000, st.mtimeMs / 1000);
  }
  const rootSt = lstatSync(src);
  copyMeta(src, dst, rootSt);
  dirs.push({ path: dst, st: rootSt });
  dirs.sort((a, b) => b.path.length - a.path.length);
  for (const d of dirs) lutimesSync(d.path, d.st.atimeMs / 1000, d.st.mtimeMs / 1000);
}
