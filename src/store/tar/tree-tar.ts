// A tar of one path (a file, or a directory and everything under it) whose
// top entry is named `top`: what `docker cp` sends and receives.
import { lstatSync } from "node:fs";
import { toReadable } from "./byte-source.ts";
import { tarBytes, type TarEntry } from "./tar-writer.ts";
import { entryFor, HardLinks, walk } from "./tree-walk.ts";

export interface TreeTarOptions {
  /** Owner to record instead of the files' own (docker cp without -a: root). */
  owner?: { uid: number; gid: number };
}

export function* treeEntries(path: string, top: string, o: TreeTarOptions = {}): Generator<TarEntry> {
  const links = new HardLinks();
  const own = (e: TarEntry | null) => (e && o.owner ? { ...e, uid: o.owner.uid, gid: o.owner.gid } : e);
  const st = lstatSync(path);
  const first = own(entryFor(path, top, st, links));
  if (first) yield first;
  if (!st.isDirectory()) return;
  for (const item of walk(path)) {
    const e = own(entryFor(item.path, `${top}/${item.rel}`, item.st, links));
    if (e) yield e;
  }
}

export function treeTar(path: string, top: string, o: TreeTarOptions = {}): ReadableStream<Uint8Array> {
  return toReadable(tarBytes(treeEntries(path, top, o)));
}
