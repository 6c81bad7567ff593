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
import { entryFor, HardLinks, walk } from "../store/tar/tree-walk.ts";

export interface ContextTar {
  stream: ReadableStream<Uint8Array>;
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
  const entries = function* (): Generator<TarEntry> {
    const links = new HardLinks();
    for (const item of walk(root, "", (i) => !ignored(i.rel) || hasNegation(root))) {
      if (ignored(item.rel) && !always.has(item.rel)) continue;
      const e = entryFor(item.path, item.rel, item.st, links);
      if (e) yield { ...e, uid: 0, gid: 0, xattrs: undefined };
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
  return { stream: toReadable(tarBytes(entries())), dockerfile: name, cleanup };
}

/** A negated pattern may re-include files under an ignored dir: then every dir is walked. */
function hasNegation(root: string): boolean {
  const f = join(root, ".dockerignore");
  return existsSync(f) && /^\s*!/m.test(readFileSync(f, "utf8"));
}
