// COPY and ADD into a mounted rootfs, with Docker's destination rules: a
// destination ending in "/" (or any multi-source copy) is a directory; a
// single file onto an existing directory lands inside it; a directory's
// contents (not the directory) are copied. Sources were resolved inside their
// tree (context or stage); every destination path is resolved inside the
// rootfs (secureJoin), so an image's own symlinks cannot send a write out.
import { chmodSync, copyFileSync, lchownSync, lstatSync, lutimesSync, mkdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, type Stats } from "node:fs";
import { basename, join, posix } from "node:path";
import { createReadStream } from "node:fs";
import { lstatOrNull } from "../../store/tar/safe-path.ts";
import { extractLayer } from "../../store/tar/extract.ts";
import { decompressStream } from "../../store/tar/decompress.ts";
import { walk } from "../../store/tar/tree-walk.ts";
import { secureJoin } from "../execdriver/rootfs.ts";
import { InvalidParameterError } from "../errors.ts";

export interface Owner {
  uid: number;
  gid: number;
}

export interface CopySource {
  /** Host path of the source, already resolved inside its tree. */
  path: string;
  st: Stats;
}

export interface CopyOptions {
  /** --chown; null keeps root (Docker's classic builder copies as 0:0). */
  owner: Owner | null;
  /** --chmod bits, or null to keep the source's. */
  mode: number | null;
  /** ADD: a local tar archive is extracted into the destination. */
  extract: boolean;
}

/** Copies `sources` to `dest` (absolute, inside `rootfs`). */
export async function copyInto(rootfs: string, sources: CopySource[], dest: string, o: CopyOptions): Promise<void> {
  const destIsDir = dest.endsWith("/") || sources.length > 1;
  if (sources.length > 1 && !dest.endsWith("/")) {
    throw new InvalidParameterError(`When using COPY with more than one source file, the destination must be a directory and end with a /`);
  }
  const destClean = posix.normalize(dest);
  for (const s of sources) {
    if (s.st.isDirectory()) {
      const target = ensureDir(rootfs, destClean, o.owner);
      copyTree(rootfs, s.path, target.rel, o);
      continue;
    }
    if (o.extract && s.st.isFile() && (await isArchive(s.path))) {
      const target = ensureDir(rootfs, destClean, o.owner);
      await extractLayer(decompressStream(createReadStream(s.path)), target.host, { whiteouts: "apply" });
      continue;
    }
    let rel = destClean;
    const existing = lstatOrNull(secureJoin(rootfs, destClean));
    if (destIsDir || existing?.isDirectory()) {
      ensureDir(rootfs, destClean, o.owner);
      rel = posix.join(destClean, basename(s.path));
    } else {
      ensureDir(rootfs, posix.dirname(destClean), o.owner);
    }
    placeEntry(rootfs, s.path, s.st, rel, o);
  }
}

/** Creates `rel` and its missing parents (0755, owned as --chown says); returns it. */
function ensureDir(rootfs: string, rel: string, owner: Owner | null): { host: string; rel: string } {
  const parts = rel.split("/").filter(Boolean);
  let cur = "/";
  for (const p of parts) {
    cur = posix.join(cur, p);
    const host = secureJoin(rootfs, cur);
    const st = lstatOrNull(host);
    if (!st) {
      mkdirSync(host, 0o755);
      if (owner) lchownSync(host, owner.uid, owner.gid);
    } else if (!st.isDirectory()) {
      throw new InvalidParameterError(`failed to copy files: mkdir ${cur}: not a directory`);
    }
  }
  return { host: secureJoin(rootfs, cur), rel: cur };
}

function copyTree(rootfs: string, src: string, destRel: string, o: CopyOptions): void {
  for (const item of walk(src)) placeEntry(rootfs, item.path, item.st, posix.join(destRel, item.rel), o);
}

/** Writes one entry at `rel` (its parent exists), replacing what was there unless both are dirs. */
function placeEntry(rootfs: string, src: string, st: Stats, rel: string, o: CopyOptions): void {
  const parent = secureJoin(rootfs, posix.dirname(rel));
  const host = join(parent, posix.basename(rel));
  const existing = lstatOrNull(host);
  if (existing && !(existing.isDirectory() && st.isDirectory())) rmSync(host, { recursive: true, force: true });
  const uid = o.owner?.uid ?? 0;
  const gid = o.owner?.gid ?? 0;
  if (st.isSymbolicLink()) {
    symlinkSync(readlinkSync(src), host);
    lchownSync(host, uid, gid);
    lutimesSync(host, st.atime, st.mtime);
    return;
  }
  if (st.isDirectory()) {
    if (!existing) mkdirSync(host);
  } else if (st.isFile()) {
    copyFileSync(src, host);
  } else return; // devices and fifos are not copied
  lchownSync(host, uid, gid);
  // chmod after chown: chown(2) clears setuid/setgid.
  chmodSync(host, o.mode ?? st.mode & 0o7777);
  lutimesSync(host, st.atime, st.mtime);
}

/** ADD extracts what looks like a tar (plain or compressed), as Docker's archive detection. */
async function isArchive(path: string): Promise<boolean> {
  try {
    const it = decompressStream(createReadStream(path, { start: 0, end: 65535 }))[Symbol.asyncIterator]();
    let buf = Buffer.alloc(0);
    while (buf.length < 262) {
      const r = await it.next();
      if (r.done) break;
      buf = Buffer.concat([buf, Buffer.from(r.value)]);
    }
    await it.return?.(undefined);
    return buf.length >= 262 && buf.subarray(257, 262).toString("latin1") === "ustar";
  } catch {
    return false;
  }
}

/** `--chown=user:group`: numbers, or names looked up in the rootfs's /etc/passwd and /etc/group. */
export function resolveOwner(rootfs: string | null, spec: string): Owner {
  const [u, g] = spec.split(":", 2) as [string, string | undefined];
  const lookup = (file: string, name: string, kind: string): number => {
    if (/^\d+$/.test(name)) return Number(name);
    const line = readLines(rootfs, file).find((l) => l.split(":")[0] === name);
    if (!line) throw new InvalidParameterError(`unable to convert uid/gid chown string to host mapping: can't find ${kind} for ${name}`);
    return Number(line.split(":")[2]);
  };
  const uid = lookup("/etc/passwd", u, "uid");
  let gid: number;
  if (g !== undefined) gid = lookup("/etc/group", g, "gid");
  else if (/^\d+$/.test(u)) gid = uid;
  else gid = Number(readLines(rootfs, "/etc/passwd").find((l) => l.split(":")[0] === u)?.split(":")[3] ?? uid);
  return { uid, gid };
}

function readLines(rootfs: string | null, file: string): string[] {
  if (!rootfs) return [];
  try {
    return readFileSync(secureJoin(rootfs, file), "utf8").split("\n");
  } catch {
    return [];
  }
}

/** Whether a path exists in the tree (for Docker's "file not found in build context"). */
export function statInside(root: string, rel: string): { path: string; st: Stats } | null {
  const path = secureJoin(root, rel);
  try {
    return { path, st: lstatSync(path) };
  } catch {
    return null;
  }
}

/** WORKDIR's mkdir -p inside the rootfs: new dirs are 0755 and root's. */
export function mkdirInside(rootfs: string, dir: string): Promise<void> {
  let cur = "/";
  for (const p of dir.split("/").filter(Boolean)) {
    cur = posix.join(cur, p);
    const host = secureJoin(rootfs, cur);
    const st = lstatOrNull(host);
    if (!st) {
      mkdirSync(host, 0o755);
      lchownSync(host, 0, 0);
    } else if (!st.isDirectory()) throw new InvalidParameterError(`mkdir ${cur}: not a directory`);
  }
  return Promise.resolve();
}

