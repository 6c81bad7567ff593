// Path rules for layer entries. Decision (documented for users in the report):
// - a leading "./" (what `tar -C dir .` writes) is stripped, as are "." parts and
//   repeated or trailing slashes;
// - an ABSOLUTE name is refused. Docker joins it under the root (stripping "/"),
//   but no tool that builds image layers writes one, so we treat it as hostile;
// - any ".." component is refused, even one that would stay inside after
//   cleaning (Docker only refuses a breakout; we never need the lenient form).
// While writing, every parent component is lstat'ed and must be a real
// directory: a symlink there — planted earlier in this layer or by a lower layer
// in a vfs copy — is refused, so nothing is ever written outside the root.
// The tree being written is private to the daemon (a temp dir), so nothing
// races us between the lstat and the write.
import { lstatSync, mkdirSync, type Stats } from "node:fs";
import { join } from "node:path";
import { LayerRejectedError } from "./errors.ts";

/** The components of a tar entry name; [] is the layer root itself. */
export function entryComponents(name: string): string[] {
  if (name.includes("\0")) throw new LayerRejectedError(name, "NUL byte in name");
  if (name.startsWith("/")) throw new LayerRejectedError(name, "absolute path");
  const parts = name.split("/").filter((p) => p !== "" && p !== ".");
  if (parts.includes("..")) throw new LayerRejectedError(name, "'..' component");
  return parts;
}

export function lstatOrNull(path: string): Stats | null {
  try {
    return lstatSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return null;
    throw e;
  }
}

/**
 * Walks `parts` under `root`, creating missing directories (0755, root-owned,
 * as Docker does) and refusing any component that is a symlink or not a dir.
 * Returns the absolute path of the last component. Components in `known` are taken
 * as checked; the ones checked here are added to it.
 */
export function ensureDirs(root: string, parts: readonly string[], entry: string, create = true, known?: Set<string>): string {
  let cur = root;
  for (const p of parts) {
    cur = join(cur, p);
    // `known`: directories the caller saw (or made) as real ones and forgets when it removes them.
    if (known?.has(cur)) continue;
    const st = lstatOrNull(cur);
    if (st === null) {
      if (!create) throw new LayerRejectedError(entry, `${p}: no such directory`);
      mkdirSync(cur, 0o755);
    } else if (st.isSymbolicLink()) {
      throw new LayerRejectedError(entry, `would write through symlink ${parts.slice(0, parts.indexOf(p) + 1).join("/")}`);
    } else if (!st.isDirectory()) {
      throw new LayerRejectedError(entry, `${p} is not a directory`);
    }
    known?.add(cur);
  }
  return cur;
}
