// The build context: the request body (a tar, maybe gzipped, or a bare
// Dockerfile) streamed to a private directory under the root's tmp/, then
// filtered by .dockerignore. Entry names that are absolute or climb with ".."
// are refused; nothing is written through a symlink (ensureDirs). Sources of
// COPY/ADD are resolved inside this directory (symlinks included), so a
// context can never make the builder read a file of the host.
import { chmodSync, closeSync, constants, copyFileSync, lutimesSync, mkdirSync, openSync, readdirSync, readFileSync, rmdirSync, rmSync, symlinkSync, writeSync } from "node:fs";
import { join, posix } from "node:path";
import { extract as tarExtract, type Header as Headers } from "tar-stream";
import dockerignore from "@balena/dockerignore";
import { decompressStream } from "../../store/tar/decompress.ts";
import { iterate, type ByteSource } from "../../store/tar/byte-source.ts";
import { ensureDirs, entryComponents, lstatOrNull } from "../../store/tar/safe-path.ts";
import { LayerRejectedError } from "../../store/tar/errors.ts";
import { walk } from "../../store/tar/tree-walk.ts";
import { secureJoin } from "../execdriver/rootfs.ts";
import { InvalidParameterError } from "../errors.ts";

/** A context on disk; `root` holds its files. */
export interface BuildContext {
  root: string;
  /** Bytes received. */
  size: number;
}

/** Streams the body into `root` (an empty dir). A plain-text body becomes ./Dockerfile, as dockerd does. */
export async function receiveContext(body: ByteSource, root: string, signal?: AbortSignal): Promise<BuildContext> {
  let size = 0;
  const counted = (async function* () {
    for await (const c of decompressStream(body)) {
      if (signal?.aborted) throw new Error("build cancelled");
      size += c.byteLength;
      yield c;
    }
  })();
  const it = counted[Symbol.asyncIterator]();
  // Sniff: a tar has "ustar" at offset 257; anything else is a Dockerfile.
  const head: Uint8Array[] = [];
  let n = 0;
  let done = false;
  while (n < 512) {
    const r = await it.next();
    if (r.done) {
      done = true;
      break;
    }
    head.push(r.value);
    n += r.value.byteLength;
  }
  const first = Buffer.concat(head);
  const rest = (async function* () {
    yield first;
    if (!done) for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
  })();
  if (first.length >= 262 && first.subarray(257, 262).toString("latin1") === "ustar") await untar(rest, root);
  else if (first.length === 0 || first.every((b) => b === 0)) {
    // an empty tar (only end blocks) is an empty context
    for await (const _ of rest);
  } else {
    const fd = openSync(join(root, "Dockerfile"), constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o644);
    try {
      for await (const c of rest) for (let off = 0; off < c.byteLength; ) off += writeSync(fd, c, off);
    } finally {
      closeSync(fd);
    }
  }
  return { root, size };
}

async function untar(src: AsyncIterable<Uint8Array>, root: string): Promise<void> {
  const ex = tarExtract();
  const feeding = (async () => {
    try {
      let n = 0;
      for await (const c of src) {
        n += c.byteLength;
        if (!ex.write(c)) await new Promise<void>((r) => ex.once("drain", () => r()));
      }
      // The docker CLI's `-f -` context ends without the last entry's padding and the end
      // blocks (dockerd reads it anyway): complete the archive rather than refuse it.
      ex.write(Buffer.alloc(((512 - (n % 512)) % 512) + 1024));
      ex.end(undefined);
    } catch (e) {
      ex.destroy(e as Error);
    }
  })();
  const dirTimes: [string, Date][] = [];
  try {
    for await (const entry of ex) {
      await writeEntry(root, entry.header, entry as AsyncIterable<Uint8Array>, dirTimes);
    }
  } catch (e) {
    if (e instanceof LayerRejectedError) throw new InvalidParameterError(`invalid build context: ${e.message}`);
    throw e;
  } finally {
    if (!ex.destroyed) ex.destroy();
    await feeding;
  }
  for (const [p, t] of dirTimes.reverse()) lutimesSync(p, t, t);
}

async function writeEntry(root: string, h: Headers, body: AsyncIterable<Uint8Array>, dirTimes: [string, Date][]): Promise<void> {
  const parts = entryComponents(h.name);
  const drain = async () => {
    for await (const _ of body);
  };
  if (!parts.length) return drain();
  const dir = ensureDirs(root, parts.slice(0, -1), h.name);
  const path = join(dir, parts.at(-1)!);
  const existing = lstatOrNull(path);
  if (existing && !(existing.isDirectory() && h.type === "directory")) rmSync(path, { recursive: true });
  const mode = (h.mode ?? 0o644) & 0o7777;
  switch (h.type) {
    case "file":
    case "contiguous-file": {
      const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
      try {
        for await (const c of body) for (let off = 0; off < c.byteLength; ) off += writeSync(fd, c, off);
      } finally {
        closeSync(fd);
      }
      chmodSync(path, mode);
      break;
    }
    case "directory":
      await drain();
      if (!existing) mkdirSync(path);
      chmodSync(path, mode);
      if (h.mtime) dirTimes.push([path, h.mtime]);
      return;
    case "symlink":
      await drain();
      // Kept as written: it is only ever followed by secureJoin, inside the context.
      symlinkSync(h.linkname ?? "", path);
      break;
    case "link": {
      await drain();
      const target = entryComponents(h.linkname ?? "");
      const src = join(ensureDirs(root, target.slice(0, -1), h.name, false), target.at(-1) ?? "");
      const st = lstatOrNull(src);
      if (!st || !st.isFile()) throw new LayerRejectedError(h.name, `hard link target ${h.linkname} not in the context`);
      copyFileSync(src, path);
      chmodSync(path, st.mode & 0o7777);
      break;
    }
    default:
      // devices, fifos: a build context has no use for them
      return drain();
  }
  if (h.mtime) lutimesSync(path, h.mtime, h.mtime);
}

/** The Dockerfile's text (its path is relative to the context root; resolved inside it). */
export function readDockerfile(ctx: BuildContext, name: string): string {
  const path = secureJoin(ctx.root, name);
  const st = lstatOrNull(path);
  if (!st || !st.isFile()) throw new InvalidParameterError(`Cannot locate specified Dockerfile: ${name}`);
  return readFileSync(path, "utf8");
}

/**
 * Applies `<Dockerfile>.dockerignore` or `.dockerignore` (Docker's syntax: `!`
 * negation, `**`). Clients filter already; this keeps raw API users honest.
 */
export function applyDockerignore(ctx: BuildContext, dockerfile: string): void {
  const text = readIgnoreFile(ctx, `${dockerfile}.dockerignore`) ?? readIgnoreFile(ctx, ".dockerignore");
  if (text === null) return;
  const patterns = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));
  if (!patterns.length) return;
  const ig = dockerignore({ ignorecase: false }).add(patterns);
  const dirs: string[] = [];
  for (const item of walk(ctx.root)) {
    if (item.st.isDirectory()) {
      if (ig.ignores(item.rel)) dirs.push(item.path);
      continue;
    }
    if (ig.ignores(item.rel)) rmSync(item.path, { force: true });
  }
  // An ignored directory goes once nothing re-included (`!dir/keep`) is left in it.
  for (const d of dirs.sort((a, b) => b.length - a.length)) {
    try {
      rmdirSync(d);
    } catch {}
  }
}

function readIgnoreFile(ctx: BuildContext, name: string): string | null {
  const st = lstatOrNull(join(ctx.root, name));
  return st?.isFile() ? readFileSync(join(ctx.root, name), "utf8") : null;
}

/** A source path inside a tree (context or stage rootfs), cleaned as Docker does ("../x" is "x"). */
export function cleanSource(src: string): string {
  return posix.normalize("/" + src).replace(/^\/+/, "");
}

const GLOB = /[*?[]/;

/** Docker's path.Match for one segment. */
function segmentMatch(pattern: string, name: string): boolean {
  let re = "^";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else if (c === "[") {
      const end = pattern.indexOf("]", i + 1);
      if (end < 0) throw new InvalidParameterError(`syntax error in pattern: ${pattern}`);
      let cls = pattern.slice(i + 1, end);
      if (cls.startsWith("^")) cls = "!" + cls.slice(1);
      re += "[" + (cls.startsWith("!") ? "^" + cls.slice(1) : cls).replace(/\\/g, "\\\\") + "]";
      i = end;
    } else if (c === "\\" && i + 1 < pattern.length) re += "\\" + pattern[++i];
    else re += c.replace(/[.+^${}()|\\]/g, "\\$&");
  }
  return new RegExp(re + "$").test(name);
}

/**
 * Relative paths under `root` a source names: itself, or for a wildcard every
 * match (segment by segment, Docker's filepath.Match), sorted.
 */
export function expandSource(root: string, src: string): string[] {
  const clean = cleanSource(src);
  if (!GLOB.test(clean)) return [clean];
  let cur = [""];
  for (const seg of clean.split("/")) {
    const next: string[] = [];
    for (const base of cur) {
      if (!GLOB.test(seg)) {
        next.push(base ? `${base}/${seg}` : seg);
        continue;
      }
      let names: string[] = [];
      try {
        names = readdirSync(secureJoin(root, base));
      } catch {}
      for (const n of names.sort()) if (segmentMatch(seg, n)) next.push(base ? `${base}/${n}` : n);
    }
    cur = next;
  }
  return cur.filter((p) => lstatOrNull(secureJoin(root, p)) !== null);
}
