// `ctr cp` / Docker's /containers/{id}/archive: stat, read and write paths in
// a container's filesystem. A running container is reached through
// /proc/<pid>/root (its own view, volumes included); a stopped one by
// mounting its rootfs on a private temp dir, with paths under its mounts
// mapped to their sources. Paths are resolved inside the root without
// following symlinks out of it (secureJoin), so `/x -> /etc` reads the
// container's /etc, never the host's.
import { lstatSync, readlinkSync, statSync, type Stats } from "node:fs";
import { basename, posix } from "node:path";
import { mountTemp, readOnlyView, type MountSpec } from "../../kernel/mount.ts";
import { iterate, toReadable } from "../../store/tar/byte-source.ts";
import { extractLayer } from "../../store/tar/extract.ts";
import { entryToContainer, type IdBase } from "../../store/tar/id-shift.ts";
import { tarBytes } from "../../store/tar/tar-writer.ts";
import { treeEntries } from "../../store/tar/tree-tar.ts";
import { secureJoin } from "../execdriver/rootfs.ts";
import { InvalidParameterError, NotFoundError } from "../errors.ts";
import type { MountPoint } from "./mounts.ts";
import type { Container } from "./types.ts";

/** Docker's container path stat (the X-Docker-Container-Path-Stat header, base64 JSON). */
export interface PathStat {
  name: string;
  size: number;
  /** Go's os.FileMode: permission bits plus type bits. */
  mode: number;
  mtime: string;
  linkTarget: string;
}

export interface ArchiveDeps {
  get(ref: string): Container;
  rwMount(id: string): MountSpec;
  tmpDir: string;
}

/** A view of a container's files for the length of one operation. */
interface FsView {
  /** Host path of a container path, resolved safely inside the container. */
  resolve(path: string): string;
  release(): void;
}

const GO_MODE = { dir: 2 ** 31, symlink: 2 ** 27, device: 2 ** 26, pipe: 2 ** 25, socket: 2 ** 24, setuid: 2 ** 23, setgid: 2 ** 22, char: 2 ** 21, sticky: 2 ** 20 };

export function goFileMode(st: Stats): number {
  let m = st.mode & 0o777;
  if (st.mode & 0o4000) m += GO_MODE.setuid;
  if (st.mode & 0o2000) m += GO_MODE.setgid;
  if (st.mode & 0o1000) m += GO_MODE.sticky;
  if (st.isDirectory()) m += GO_MODE.dir;
  else if (st.isSymbolicLink()) m += GO_MODE.symlink;
  else if (st.isFIFO()) m += GO_MODE.pipe;
  else if (st.isSocket()) m += GO_MODE.socket;
  else if (st.isCharacterDevice()) m += GO_MODE.device + GO_MODE.char;
  else if (st.isBlockDevice()) m += GO_MODE.device;
  return m;
}

/** The host ids of the container's root: its merged root's owner (the mapped root under a user namespace, id-shift.ts). */
function rootIds(view: { resolve(p: string): string }): IdBase {
  const st = statSync(view.resolve("/"));
  return { uid: st.uid, gid: st.gid };
}

function* mapEntries<T>(it: Iterable<T>, f: (e: T) => T): Generator<T> {
  for (const e of it) yield f(e);
}

export class ContainerArchive {
  constructor(private readonly d: ArchiveDeps) {}

  stat(ref: string, path: string): PathStat {
    const view = this.open(ref);
    try {
      return statOf(view.resolve(path), path);
    } finally {
      view.release();
    }
  }

  /** A tar of `path` whose top entry is the path's base name, as `docker cp` expects. */
  read(ref: string, path: string): { stat: PathStat; tar: ReadableStream<Uint8Array> } {
    const view = this.open(ref);
    try {
      const host = view.resolve(path);
      const stat = statOf(host, path);
      const top = basename(posix.normalize("/" + path)) || ".";
      const tar = toReadable(releasing(tarBytes(mapEntries(treeEntries(host, top), entryToContainer(rootIds(view)))), () => view.release()));
      return { stat, tar };
    } catch (e) {
      view.release();
      throw e;
    }
  }

  /** Extracts a tar into the directory `path` (which must exist), refusing entries that climb out. */
  async write(ref: string, path: string, tar: ReadableStream<Uint8Array>): Promise<void> {
    const view = this.open(ref);
    try {
      const host = view.resolve(path);
      let st: Stats;
      try {
        st = statSync(host);
      } catch {
        throw new NotFoundError(`Could not find the file ${path} in container ${ref}`);
      }
      if (!st.isDirectory()) throw new InvalidParameterError(`extraction point is not a directory: ${path}`);
      await extractLayer(tar, host, { whiteouts: "apply", idBase: rootIds(view) });
    } finally {
      view.release();
    }
  }

  /**
   * `ctr export`: the container's root filesystem, flattened. Read through a
   * read-only overlay of its rw layer over the image's layers, which a
   * running container's own mount does not mind.
   */
  exportTar(ref: string, tarOf: (dir: string) => ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
    const c = this.d.get(ref);
    const { dir, release } = mountTemp(readOnlyView(this.d.rwMount(c.id)), this.d.tmpDir, "export-");
    try {
      return toReadable(releasing(iterate(tarOf(dir)), release));
    } catch (e) {
      release();
      throw e;
    }
  }

  private open(ref: string): FsView {
    const c = this.d.get(ref);
    if (c.state.Running && c.state.Pid > 0) {
      const root = `/proc/${c.state.Pid}/root`;
      return { resolve: (p) => secureJoin(root, p), release: () => {} };
    }
    const { dir, release } = mountTemp(this.d.rwMount(c.id), this.d.tmpDir, "cp-");
    return { resolve: (p) => resolveStopped(dir, c.mounts, p), release };
  }
}


/** In a stopped container, a path under a volume or bind lives at the mount's source. */
function resolveStopped(root: string, mounts: readonly MountPoint[], path: string): string {
  const p = posix.normalize("/" + path);
  const m = [...mounts]
    .filter((x) => x.Type !== "tmpfs" && (p === x.Destination || p.startsWith(x.Destination.replace(/\/$/, "") + "/")))
    .sort((a, b) => b.Destination.length - a.Destination.length)[0];
  if (!m) return secureJoin(root, p);
  return secureJoin(m.Source, p.slice(m.Destination.length));
}

function statOf(host: string, path: string): PathStat {
  let st: Stats;
  try {
    st = lstatSync(host);
  } catch {
    throw new NotFoundError(`Could not find the file ${path} in container`);
  }
  return {
    name: basename(posix.normalize("/" + path)) || "/",
    size: st.size,
    mode: goFileMode(st),
    mtime: st.mtime.toISOString(),
    linkTarget: st.isSymbolicLink() ? readlinkSync(host) : "",
  };
}

async function* releasing(src: AsyncIterable<Uint8Array>, release: () => void): AsyncGenerator<Uint8Array> {
  try {
    yield* src;
  } finally {
    release();
  }
}
