// `--security-opt` and `--ulimit` as the docker CLI reads them
// (cli/command/container/opts.go): a seccomp profile path is read here and
// sent as compact JSON ("seccomp=<json>"), "systempaths=unconfined" becomes
// empty MaskedPaths/ReadonlyPaths, and ulimits travel as {Name, Soft, Hard}.
import { readText } from "./read-text.ts";
import { parseUlimit, type Ulimit } from "../engine/security/ulimits.ts";

export interface SecurityFlagsOut {
  SecurityOpt: string[] | null;
  MaskedPaths?: string[];
  ReadonlyPaths?: string[];
}

export function securityOptFlags(opts: string[]): SecurityFlagsOut {
  const out: string[] = [];
  let unconfinedPaths = false;
  for (const opt of opts) {
    let [k, v, ok] = cut(opt, "=");
    if (!ok && k !== "no-new-privileges") [k, v, ok] = cut(opt, ":");
    if ((!ok || v === "") && k !== "no-new-privileges") throw new Error(`Invalid --security-opt: ${JSON.stringify(opt)}`);
    if (k === "systempaths" && v === "unconfined") {
      unconfinedPaths = true;
      continue;
    }
    if (k === "seccomp" && v !== "builtin" && v !== "unconfined") {
      let text: string;
      try {
        text = readText(v);
      } catch (e) {
        throw new Error(`opening seccomp profile (${v}) failed: ${(e as Error).message}`);
      }
      try {
        out.push(`seccomp=${JSON.stringify(JSON.parse(text))}`);
      } catch (e) {
        throw new Error(`compacting json for seccomp profile (${v}) failed: ${(e as Error).message}`);
      }
      continue;
    }
    out.push(opt);
  }
  return { SecurityOpt: out.length ? out : null, ...(unconfinedPaths ? { MaskedPaths: [], ReadonlyPaths: [] } : {}) };
}

function cut(s: string, sep: string): [string, string, boolean] {
  const i = s.indexOf(sep);
  return i < 0 ? [s, "", false] : [s.slice(0, i), s.slice(i + 1), true];
}

export function ulimitFlags(vals: string[]): Ulimit[] | null {
  const out = vals.map((v) => {
    try {
      return parseUlimit(v);
    } catch (e) {
      throw new Error(`invalid argument "${v}" for "--ulimit" flag: ${(e as Error).message}`);
    }
  });
  return out.length ? out : null;
}

/** The docker CLI accepts "" or "host" for --userns (its ValidateUserNSMode); ours also "auto" (a range per container). */
export function usernsFlag(v: string | undefined): string {
  if (v === undefined || v === "") return "";
  if (v !== "host" && v !== "auto") throw new Error("--userns: invalid USER mode");
  return v;
}
