// Applies an UNCOMPRESSED layer tar (OCI image spec layer.md) to a directory,
// writing exactly what the tar says and refusing hostile entries (see
// safe-path.ts). The caller extracts into a private temp dir and renames it
// into place only after this resolves, so a refused layer leaves nothing.
import { createHash } from "node:crypto";
import {
  chmodSync, closeSync, constants, fchmodSync, fchownSync, futimesSync, linkSync, lchownSync, lutimesSync, mkdirSync,
  openSync, readdirSync, rmSync, symlinkSync, writeSync,
} from "node:fs";
import { join } from "node:path";
import { PositionalWriter } from "../positional-writer.ts";
import { done, share } from "../owned-buffers.ts";
import { lsetxattr, mknod, S_IFBLK, S_IFCHR, S_IFIFO } from "../../kernel/fs-ffi.ts";
import { iterate, type ByteSource } from "./byte-source.ts";
import { DiffIdMismatchError, LayerRejectedError } from "./errors.ts";
import { paxXattrs } from "./pax-xattrs.ts";
import { toHostId, type IdBase } from "./id-shift.ts";
import { ensureDirs, entryComponents, lstatOrNull } from "./safe-path.ts";
import { TarReader, type EntryBody, type TarHeader as Header } from "./tar-reader.ts";
import { OVERLAY_OPAQUE_XATTR, OVERLAY_XATTR_PREFIX, parseWhiteout, type WhiteoutMode } from "./whiteout.ts";

export interface ExtractOptions {
  /** 'overlay': whiteouts become 0:0 char devices / opaque xattrs; 'apply': they delete (vfs). */
  whiteouts: WhiteoutMode;
  /** "sha256:…" the uncompressed stream must hash to. */
  expectedDiffId?: string;
  /** Extracting into a user-namespaced container (`docker cp`): the tar's ids are the container's (id-shift.ts). */
  idBase?: IdBase;
}

export interface ExtractResult {
  /** sha256 of the whole uncompressed stream. */
  diffId: string;
  /** Bytes of the uncompressed stream. */
  tarSize: number;
  /** Sum of the entries' content sizes (Docker's layer Size). */
  size: number;
  entries: number;
}

interface DirTime {
  path: string;
  atime: number;
  mtime: number;
}

class LayerWriter {
  /** Paths this layer wrote, and all their ancestors: an opaque marker keeps them. */
  private readonly touched = new Set<string>();
  /** Directories under the root known to be real directories (safe-path.ts ensureDirs). */
  private readonly dirs = new Set<string>();
  private readonly dirTimes: DirTime[] = [];
  size = 0;
  entries = 0;

  constructor(
    private readonly root: string,
    private readonly mode: WhiteoutMode,
    private readonly idBase: IdBase = { uid: 0, gid: 0 },
  ) {}

  private uid(id: number): number {
    return toHostId(id, this.idBase.uid);
  }
  private gid(id: number): number {
    return toHostId(id, this.idBase.gid);
  }

  /** Applies the entry `h`; for a regular file, returns where its content goes. */
  entry(h: Header): EntryBody | null {
    const name = h.name;
    const parts = entryComponents(name);
    this.entries++;
    const wh = parts.length ? parseWhiteout(parts[parts.length - 1]!) : null;
    if (wh) {
      if (h.type !== "file" && h.type !== "contiguous-file" && h.type !== "directory") {
        throw new LayerRejectedError(name, `whiteout of type ${h.type ?? "unknown"}`);
      }
      this.whiteout(name, parts, wh, h);
      return null;
    }
    if (parts.length === 0) {
      if (h.type !== "directory") throw new LayerRejectedError(name, "layer root is not a directory");
      this.metadata(this.root, h);
      return null;
    }
    const dir = ensureDirs(this.root, parts.slice(0, -1), name, true, this.dirs);
    const path = join(dir, parts[parts.length - 1]!);
    this.touch(parts);
    // Made first, and only when something is there already (EEXIST) looked at and removed:
    // a pull extracts into a fresh directory, where that is rare.
    switch (h.type) {
      case "file":
      case "contiguous-file": {
        const fd = this.create(path, () => openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600))!;
        return new FileBody(fd, h.size, (fd, n) => {
          this.size += n;
          this.metadata(path, h, fd);
        });
      }
      case "directory":
        this.create(path, () => mkdirSync(path, 0o700), true);
        this.dirs.add(path);
        break;
      case "symlink":
        this.create(path, () => symlinkSync(h.linkname ?? "", path));
        // dockerd's layer size is directory.Size of the extracted layer (lstat sizes of all but
        // directories, once per inode): a symlink counts the length of its target.
        this.size += Buffer.byteLength(h.linkname ?? "");
        break;
      case "link": {
        const target = this.linkTarget(name, h.linkname ?? "");
        // What is at the entry's path goes first (as dockerd removes it before its link): a link
        // to itself or to something below it would have no target left.
        if (target === path || target.startsWith(`${path}/`)) throw new LayerRejectedError(name, `hard link target ${h.linkname} is replaced by the link`);
        this.create(path, () => linkSync(target, path));
        return null; // the inode already carries its metadata
      }
      case "character-device":
      case "block-device":
      case "fifo": {
        const t = h.type === "fifo" ? S_IFIFO : h.type === "block-device" ? S_IFBLK : S_IFCHR;
        this.create(path, () => mknod(path, t, 0o600, h.devmajor ?? 0, h.devminor ?? 0));
        break;
      }
      default:
        throw new LayerRejectedError(name, `unsupported entry type ${h.type ?? "unknown"}`);
    }
    this.metadata(path, h);
    return null;
  }

  /**
   * Runs `make`; when `path` exists already (EEXIST), removes what is there (a directory
   * stays if `keepDir`: a directory entry over a directory only updates its metadata) and
   * runs it again.
   */
  private create<T>(path: string, make: () => T, keepDir = false): T | undefined {
    try {
      return make();
    } catch (e) {
      if (!isExists(e)) throw e;
    }
    if (keepDir && lstatOrNull(path)?.isDirectory()) return undefined;
    this.remove(path);
    return make();
  }

  /** Removes `path` (and what is below it) and forgets the directories that were there. */
  private remove(path: string): void {
    rmSync(path, { recursive: true, force: true });
    const below = `${path}/`;
    for (const d of this.dirs) if (d === path || d.startsWith(below)) this.dirs.delete(d);
  }

  /** Directory mtimes go last: writing their children would bump them again. */
  finish(): void {
    this.dirTimes.sort((a, b) => b.path.length - a.path.length);
    for (const t of this.dirTimes) lutimesSync(t.path, t.atime, t.mtime);
  }

  private touch(parts: readonly string[]): void {
    for (let i = 1; i <= parts.length; i++) this.touched.add(parts.slice(0, i).join("/"));
  }

  private linkTarget(entry: string, linkname: string): string {
    const parts = entryComponents(linkname);
    if (parts.length === 0) throw new LayerRejectedError(entry, "hard link to the layer root");
    const dir = ensureDirs(this.root, parts.slice(0, -1), entry, false, this.dirs);
    const target = join(dir, parts[parts.length - 1]!);
    const st = lstatOrNull(target);
    if (!st) throw new LayerRejectedError(entry, `hard link target ${linkname} not in layer`);
    if (st.isDirectory()) throw new LayerRejectedError(entry, `hard link to directory ${linkname}`);
    return target;
  }

  private whiteout(name: string, parts: string[], wh: NonNullable<ReturnType<typeof parseWhiteout>>, h: Header): void {
    if (wh.kind === "meta") return;
    const dirParts = parts.slice(0, -1);
    const dir = ensureDirs(this.root, dirParts, name, true, this.dirs);
    this.touch(dirParts);
    if (wh.kind === "opaque") {
      if (this.mode === "overlay") lsetxattr(dir, OVERLAY_OPAQUE_XATTR, Buffer.from("y"));
      else this.clearLower(dir, dirParts.join("/"));
      return;
    }
    if (wh.name === "" || wh.name === "." || wh.name === "..") throw new LayerRejectedError(name, "bad whiteout name");
    const target = join(dir, wh.name);
    if (lstatOrNull(target)) this.remove(target);
    if (this.mode === "overlay") {
      mknod(target, S_IFCHR, 0, 0, 0);
      lchownSync(target, this.uid(paxNum(h, "uid") ?? h.uid ?? 0), this.gid(paxNum(h, "gid") ?? h.gid ?? 0));
      this.touch([...dirParts, wh.name]);
    }
  }

  /** Apply mode's opaque dir: drop what lower layers put there, keep this layer's entries. */
  private clearLower(dir: string, rel: string): void {
    for (const child of readdirSync(dir)) {
      const childRel = rel ? `${rel}/${child}` : child;
      if (!this.touched.has(childRel)) this.remove(join(dir, child));
    }
  }

  /** Owner, mode, xattrs and times of `path`; a regular file's through its open `fd` (no path walks). */
  private metadata(path: string, h: Header, fd?: number): void {
    const uid = this.uid(paxNum(h, "uid") ?? h.uid ?? 0);
    const gid = this.gid(paxNum(h, "gid") ?? h.gid ?? 0);
    const mode = (h.mode ?? 0o644) & 0o7777;
    // chmod after chown: chown(2) clears setuid/setgid.
    if (fd !== undefined) {
      fchownSync(fd, uid, gid);
      fchmodSync(fd, mode);
    } else {
      lchownSync(path, uid, gid);
      if (h.type !== "symlink") chmodSync(path, mode);
    }
    for (const [k, v] of paxXattrs(h.pax)) {
      if (k.startsWith(OVERLAY_XATTR_PREFIX)) continue; // a layer must not steer overlayfs
      lsetxattr(path, k, v);
    }
    const mtime = paxNum(h, "mtime") ?? h.mtime;
    const atime = paxNum(h, "atime") ?? mtime;
    if (h.type === "directory") this.dirTimes.push({ path, atime, mtime });
    else if (fd !== undefined) futimesSync(fd, atime, mtime);
    else lutimesSync(path, atime, mtime);
  }
}

function isExists(e: unknown): boolean {
  const err = e as { code?: string; errno?: number };
  return err?.code === "EEXIST" || err?.errno === 17;
}

function paxNum(h: Header, key: string): number | undefined {
  const v = h.pax?.[key];
  if (v === undefined) return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}

/** A file this small is written with write(2) on the loop: a trip to the thread pool costs more. */
const SMALL_FILE = 64 * 1024;

/**
 * A regular file's content, written as it comes: a small file at once, a larger one off
 * the loop (PositionalWriter). The pieces are views of the chunk being parsed; one queued
 * for a later write holds the chunk (owned-buffers.ts) until its bytes are written, so an
 * owned chunk is freed once parsed and written.
 */
class FileBody implements EntryBody {
  private readonly out: PositionalWriter | null;
  private n = 0;
  private closed = false;

  constructor(
    private readonly fd: number,
    size: number,
    /** Runs once every byte is written, before the file is closed, with its descriptor and size. */
    private readonly complete: (fd: number, size: number) => void,
  ) {
    this.out = size > SMALL_FILE ? new PositionalWriter(fd) : null;
  }

  write(piece: Uint8Array): Promise<void> | void {
    const at = this.n;
    this.n += piece.byteLength;
    if (!this.out) return void writeAll(this.fd, piece, at);
    share(piece);
    return this.out.write(piece, () => done(piece));
  }

  async end(): Promise<void> {
    try {
      // Every byte written before the caller's chmod/utimes (a write after them would undo the mtime).
      await this.out?.flush();
      this.complete(this.fd, this.n);
    } finally {
      await this.abort();
    }
  }

  async abort(): Promise<void> {
    await this.out?.flush().catch(() => {}); // on a failure too: no write may outlive the descriptor
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
  }
}

function writeAll(fd: number, b: Uint8Array, at: number): void {
  for (let off = 0; off < b.byteLength; ) off += writeSync(fd, b, off, b.byteLength - off, at + off);
}

/**
 * Extracts `source` into the existing directory `dest`. A chunk of `source` that is owned
 * (owned-buffers.ts: decompressStream's output, a download's chunk) is done with here
 * once parsed and its file bytes written.
 */
export async function extractLayer(source: ByteSource, dest: string, opts: ExtractOptions): Promise<ExtractResult> {
  const hash = createHash("sha256");
  let tarSize = 0;
  const w = new LayerWriter(dest, opts.whiteouts, opts.idBase);
  const reader = new TarReader((h) => w.entry(h));
  try {
    for await (const chunk of iterate(source)) {
      hash.update(chunk);
      tarSize += chunk.byteLength;
      try {
        await reader.push(chunk);
      } finally {
        done(chunk);
      }
    }
    reader.end();
    w.finish();
  } finally {
    await reader.abort();
  }
  const diffId = `sha256:${hash.digest("hex")}`;
  if (opts.expectedDiffId && opts.expectedDiffId !== diffId) throw new DiffIdMismatchError(opts.expectedDiffId, diffId);
  return { diffId, tarSize, size: w.size, entries: w.entries };
}
