// The build context as the docker CLI sends it: the directory as a tar,
// filtered by .dockerignore on this side (the Dockerfile and .dockerignore are
// always sent, the daemon drops them if ignored), owners 0:0, plus a Dockerfile
// read from stdin under a name of its own.
import { existsSync, lstatSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { randomBytes } from "node:crypto";
import dockerignore from "@balena/dockerignore";
import { toReadable } from "../store/tar/byte-source.ts";
import { tarBytes, type TarEntry } from "../store/tar/tar-writer.ts";
import { readdirSync, readlinkSync, type Stats } from "node:fs";

export interface ContextTar {
  stream: ReadableStream<Uint8Array>;
  /** A small context whole (sent with a Content-Length: chunked framing of a tiny body costs ~20 ms in Bun's fetch); null when large. */
  small(): Promise<Blob | ReadableStream<Uint8Array>>;
  /** The Dockerfile's name inside the context. */
  dockerfile: string;
  /** Removes the temp copy of a stdin Dockerfile. */
  cleanup(): void;
}

function ignoreFilter(dir: string, dockerfile: string): (rel: string) => boolean {
  const file = [join(dir, `${dockerfile}.dockerignore`), join(dir, ".dockerignore")].find((f) => existsSync(f));
  if (!file) return () => false;
  const patterns = readFileSync(file, "utf8").split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));
  const ig = dockerignore({ ignorecase: false }).add(patterns);
  return (rel) => ig.ignores(rel);
}

/** `dir` as a tar; `dockerfile` a path (relative to the cwd) or the text of one read from stdin. */
export function contextTar(dir: string, dockerfile: { path?: string; text?: string }): ContextTar {
  const root = resolve(dir);
  if (!existsSync(root) || !lstatSync(root).isDirectory()) throw new Error(`unable to prepare context: path "${dir}" not found`);
  const always = new Set([".dockerignore"]);
  let name = "Dockerfile";
  let inline: Uint8Array | null = null;
  if (dockerfile.text !== undefined) {
    name = `.dockerfile.${randomBytes(10).toString("hex")}`;
    inline = new TextEncoder().encode(dockerfile.text);
  } else if (dockerfile.path) {
    const abs = resolve(dockerfile.path);
    const rel = relative(root, abs);
    if (rel.startsWith("..")) {
      // A Dockerfile outside the context travels inside it, as the docker CLI does.
      name = `.dockerfile.${randomBytes(10).toString("hex")}`;
      inline = readFileSync(abs);
    } else name = rel;
  }
  always.add(name);
  const ignored = ignoreFilter(root, name);
  const negation = hasNegation(root);
  const entries = function* (): Generator<TarEntry> {
    for (const item of walk(root, "", (rel) => negation || !ignored(rel))) {
      if (ignored(item.rel) && !always.has(item.rel)) continue;
      const e = entryOf(item.path, item.rel, item.st);
      if (e) yield e;
    }
    if (inlinePath) yield { name, type: "file", mode: 0o644, uid: 0, gid: 0, mtime: Math.floor(Date.now() / 1000), size: inline!.length, sourcePath: inlinePath };
  };
  let inlinePath: string | null = null;
  let tmp: string | null = null;
  if (inline) {
    tmp = mkdtempSync(join(tmpdir(), "ctr-build-"));
    inlinePath = join(tmp, "Dockerfile");
    writeFileSync(inlinePath, inline);
  }
  const cleanup = () => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  };
  const stream = toReadable(coalesce(tarBytes(entries())));
  return { stream, small: () => smallOrStream(stream), dockerfile: name, cleanup };
}

const SMALL = 4 * 1024 * 1024;

/** Reads up to 4 MiB: a context that ends by then is sent whole; a larger one streams on from where it was. */
async function smallOrStream(stream: ReadableStream<Uint8Array>): Promise<Blob | ReadableStream<Uint8Array>> {
  const reader = stream.getReader();
  const head: Uint8Array[] = [];
  let n = 0;
  while (n < SMALL) {
    const r = await reader.read();
    if (r.done) return new Blob(head as unknown as ArrayBuffer[]);
    head.push(r.value);
    n += r.value.byteLength;
  }
  return new ReadableStream<Uint8Array>({
    start(ctl) {
      for (const c of head) ctl.enqueue(c);
    },
    async pull(ctl) {
      const r = await reader.read();
      if (r.done) ctl.close();
      else ctl.enqueue(r.value);
    },
    cancel: () => reader.cancel(),
  });
}

/**
 * The tar writer yields a chunk per header and per file piece; sent as they
 * are, a small context costs tens of ms in chunked framing. Runs of them are
 * joined into pieces of up to 256 KiB (memory stays bounded for any context).
 */
async function* coalesce(src: AsyncIterable<Uint8Array>, max = 256 * 1024): AsyncGenerator<Uint8Array> {
  let parts: Uint8Array[] = [];
  let n = 0;
  for await (const c of src) {
    parts.push(c);
    n += c.byteLength;
    if (n >= max) {
      yield Buffer.concat(parts);
      parts = [];
      n = 0;
    }
  }
  if (n) yield Buffer.concat(parts);
}

/**
 * The context's files, pre-order. A walk of our own rather than the store's
 * (which reads xattrs through bun:ffi): the docker CLI sends no xattrs, and the
 * client should not load the FFI for a build.
 */
function* walk(root: string, rel: string, descend: (rel: string) => boolean): Generator<{ path: string; rel: string; st: Stats }> {
  for (const name of readdirSync(rel ? join(root, rel) : root).sort()) {
    const r = rel ? `${rel}/${name}` : name;
    const path = join(root, r);
    const st = lstatSync(path);
    yield { path, rel: r, st };
    if (st.isDirectory() && descend(r)) yield* walk(root, r, descend);
  }
}

/** A tar entry as the docker CLI writes it: owner 0:0, mode and mtime kept; sockets and devices skipped. */
function entryOf(path: string, name: string, st: Stats): TarEntry | null {
  const base = { name, mode: st.mode & 0o7777, uid: 0, gid: 0, mtime: Math.floor(st.mtimeMs / 1000) };
  if (st.isFile()) return { ...base, type: "file", size: st.size, sourcePath: path };
  if (st.isDirectory()) return { ...base, type: "directory" };
  if (st.isSymbolicLink()) return { ...base, type: "symlink", linkname: readlinkSync(path) };
  return null;
}

/** A negated pattern may re-include files under an ignored dir: then every dir is walked. */
function hasNegation(root: string): boolean {
  const f = join(root, ".dockerignore");
  return existsSync(f) && /^\s*!/m.test(readFileSync(f, "utf8"));
}
