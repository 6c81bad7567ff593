// Content hashes of what COPY/ADD read: names, types, modes, link targets and
// file bytes, never mtimes or inode numbers, so a fresh checkout of the same
// files hits the cache. Docker shows these as `file:<hex>` / `dir:<hex>`.
import { createHash } from "node:crypto";
import { readFileSync, readlinkSync, type Stats } from "node:fs";
import { walk } from "../../store/tar/tree-walk.ts";
import type { CopySource } from "./copy.ts";

function entryLine(rel: string, path: string, st: Stats): string {
  const mode = (st.mode & 0o7777).toString(8);
  if (st.isSymbolicLink()) return `l ${rel} ${mode} ${readlinkSync(path)}\n`;
  if (st.isDirectory()) return `d ${rel} ${mode}\n`;
  if (st.isFile()) return `f ${rel} ${mode} ${st.size} ${createHash("sha256").update(readFileSync(path)).digest("hex")}\n`;
  return `o ${rel} ${mode}\n`;
}

/** sha256 hex of one source (a file, or a directory and all under it). */
export function hashSource(s: CopySource): string {
  const h = createHash("sha256");
  h.update(entryLine("", s.path, s.st));
  if (s.st.isDirectory()) for (const item of walk(s.path)) h.update(entryLine(item.rel, item.path, item.st));
  return h.digest("hex");
}

/** Docker's history text for the sources: `file:<hex>`, `dir:<hex>` or `multi:<hex>`. */
export function sourcesLabel(sources: CopySource[], hashes: string[]): string {
  if (sources.length === 1) return `${sources[0]!.st.isDirectory() ? "dir" : "file"}:${hashes[0]}`;
  return `multi:${createHash("sha256").update(hashes.join(",")).digest("hex")}`;
}

export function sha256(s: string): string {
  return createHash("sha256").update(s).digest("hex");
}
