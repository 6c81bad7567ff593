// Turning trees into layer tars: a full tree (`ctr export`), an overlay upper
// dir (whiteout devices and opaque xattrs converted to the OCI .wh. form, as
// Docker's overlayWhiteoutConverter does), and a list of changes against a
// vfs copy (Docker's ExportChanges).
import { join } from "node:path";
import { toReadable } from "../tar/byte-source.ts";
import { tarBytes, type TarEntry } from "../tar/tar-writer.ts";
import { entryFor, HardLinks, walk } from "../tar/tree-walk.ts";
import { OVERLAY_XATTR_PREFIX, WH_OPAQUE, WH_PREFIX } from "../tar/whiteout.ts";
import { lstatOrNull } from "../tar/safe-path.ts";
import { entryToContainer } from "../tar/id-shift.ts";
import { isOpaque, isWhiteout } from "./overlay-tree.ts";
import type { Change } from "./driver.ts";

const dropOverlay = (k: string) => k.startsWith(OVERLAY_XATTR_PREFIX);

function whiteoutEntry(rel: string, mtime: number): TarEntry {
  const slash = rel.lastIndexOf("/");
  const name = slash < 0 ? WH_PREFIX + rel : `${rel.slice(0, slash + 1)}${WH_PREFIX}${rel.slice(slash + 1)}`;
  return { name, type: "file", mode: 0o600, uid: 0, gid: 0, mtime, size: 0 };
}

/** A tar of everything under `dir` (not the dir itself). */
export function exportTar(dir: string): ReadableStream<Uint8Array> {
  function* entries(): Generator<TarEntry> {
    const links = new HardLinks();
    for (const { path, rel, st } of walk(dir)) {
      const e = entryFor(path, rel, st, links);
      if (e) yield e;
    }
  }
  return toReadable(tarBytes(entries()));
}

/** An upper dir owned by R ≠ 0 is a user-namespaced container's (its init gives it to the mapped root): see id-shift.ts. */
function containerIds(upper: string): (e: TarEntry) => TarEntry {
  const top = lstatOrNull(upper);
  return entryToContainer({ uid: top?.uid ?? 0, gid: top?.gid ?? 0 });
}

export function* overlayUpperEntries(upper: string): Generator<TarEntry> {
  const links = new HardLinks();
  const ids = containerIds(upper);
  for (const { path, rel, st } of walk(upper)) {
    if (isWhiteout(st)) {
      yield whiteoutEntry(rel, Math.floor(st.mtimeMs / 1000));
      continue;
    }
    const found = entryFor(path, rel, st, links, dropOverlay);
    if (!found) continue;
    const e = ids(found);
    yield e;
    if (st.isDirectory() && isOpaque(path)) {
      yield { name: `${rel}/${WH_OPAQUE}`, type: "file", mode: st.mode & 0o777, uid: e.uid, gid: e.gid, mtime: e.mtime, size: 0 };
    }
  }
}

export function overlayDiffTar(upper: string): ReadableStream<Uint8Array> {
  return toReadable(tarBytes(overlayUpperEntries(upper)));
}

/** A layer tar of `changes` made in the full tree `root` (paths in changes start with "/"). */
export function changesTar(root: string, changes: readonly Change[]): ReadableStream<Uint8Array> {
  function* entries(): Generator<TarEntry> {
    const links = new HardLinks();
    const sorted = [...changes].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    for (const c of sorted) {
      const rel = c.path.replace(/^\/+/, "");
      if (c.kind === "D") {
        yield whiteoutEntry(rel, Math.floor(Date.now() / 1000));
        continue;
      }
      const path = join(root, rel);
      const st = lstatOrNull(path);
      if (!st) continue; // deleted since changes() looked
      const e = entryFor(path, rel, st, links);
      if (e) yield e;
    }
  }
  return toReadable(tarBytes(entries()));
}
