// Sources of COPY/ADD that are not files of a tree: a URL's body (ADD) and a
// heredoc's text (COPY <<EOF), written to the build's scratch dir first so
// they are hashed and copied like any other source.
import { chmodSync, lstatSync, utimesSync } from "node:fs";
import { join } from "node:path";
import type { CopySource } from "./copy.ts";
import { BuildError } from "./errors.ts";
import { expandWord } from "./words.ts";

/**
 * ADD <url>: the body to a file named as the URL's last path segment, 0600 and
 * dated by Last-Modified as dockerd does; hashed like any source, so the same
 * bytes hit the cache.
 */
export async function download(url: string, dir: string, signal: AbortSignal): Promise<CopySource> {
  const res = await fetch(url, { signal, redirect: "follow" });
  if (!res.ok) throw new BuildError(`failed to GET ${url} with status ${res.status} ${res.statusText}`);
  const name = decodeURIComponent(new URL(url).pathname.split("/").filter(Boolean).at(-1) ?? "") || "download";
  const file = join(dir, name.replace(/\//g, "_"));
  await Bun.write(file, res);
  chmodSync(file, 0o600);
  const lm = res.headers.get("last-modified");
  if (lm && !Number.isNaN(Date.parse(lm))) utimesSync(file, new Date(lm), new Date(lm));
  return { path: file, st: lstatSync(file) };
}

/** A heredoc body with an unquoted delimiter: $var expanded, quotes left alone. */
export function expandHeredoc(body: string, vars: Map<string, string>, escape: string): string {
  return body.replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-+])([^}]*))?\}?/g, (m, name: string, op?: string, word?: string) => {
    if (m.startsWith("${") && !m.endsWith("}")) return m;
    if (op) return expandWord(m, vars, escape);
    return vars.get(name) ?? "";
  });
}

