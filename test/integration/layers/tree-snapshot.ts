// Describes a directory tree as plain data so two extractions can be compared
// with one toEqual: type, mode, owner, mtime, size, content hash, link target,
// device numbers, xattrs and hard-link groups.
import { lstatSync, readFileSync, readlinkSync } from "node:fs";
import { createHash } from "node:crypto";
import { walk } from "../../../src/store/tar/tree-walk.ts";
import { lxattrs } from "../../../src/kernel/fs-ffi.ts";

export interface NodeInfo {
  mode: string;
  uid: number;
  gid: number;
  mtime: number;
  size?: number;
  sha?: string;
  link?: string;
  rdev?: number;
  xattrs?: Record<string, string>;
  hardlinkGroup?: string;
}

export function snapshot(root: string, opts: { dirMtimes?: boolean; linkMtimes?: boolean } = {}): Record<string, NodeInfo> {
  const out: Record<string, NodeInfo> = {};
  const inodes = new Map<number, string>();
  const rootSt = lstatSync(root);
  const items = [{ path: root, rel: ".", st: rootSt }, ...walk(root)];
  for (const { path, rel, st } of items) {
    const n: NodeInfo = { mode: (st.mode).toString(8), uid: st.uid, gid: st.gid, mtime: Math.floor(st.mtimeMs / 1000) };
    if (st.isDirectory() && opts.dirMtimes === false) n.mtime = 0;
    if (st.isSymbolicLink() && opts.linkMtimes === false) n.mtime = 0;
    if (st.isFile()) {
      n.size = st.size;
      n.sha = createHash("sha256").update(readFileSync(path)).digest("hex").slice(0, 16);
      if (st.nlink > 1) {
        const first = inodes.get(st.ino);
        if (first) n.hardlinkGroup = first;
        else {
          inodes.set(st.ino, rel);
          n.hardlinkGroup = rel;
        }
      }
    }
    if (st.isSymbolicLink()) n.link = readlinkSync(path);
    if (st.isCharacterDevice() || st.isBlockDevice()) n.rdev = st.rdev;
    const x = lxattrs(path);
    if (x.size) n.xattrs = Object.fromEntries([...x].map(([k, v]) => [k, v.toString("hex")]));
    out[rel] = n;
  }
  return out;
}
