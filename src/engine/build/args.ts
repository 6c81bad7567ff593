// ARG scoping as Docker has it: ARGs before the first FROM are global (FROM
// lines see them; a stage's bare `ARG X` re-imports the value); a stage's ARG
// takes the build arg given for it, else its default. The proxy args work
// undeclared and stay out of the history; the platform args have values.
import { hostPlatform, formatPlatform } from "../distribution/platform.ts";
import { InvalidParameterError } from "../errors.ts";
import { rawWords } from "./instructions.ts";
import type { Instruction } from "./parse.ts";
import { expandWord, type Vars } from "./words.ts";

export const PROXY_ARGS = ["HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY", "ftp_proxy", "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"];

/** TARGETPLATFORM and friends: this builder builds for the machine it runs on. */
export function platformArgs(platform?: string): Map<string, string> {
  const p = hostPlatform();
  const target = platform ?? formatPlatform(p);
  const [tos = p.os, tarch = p.architecture, tvariant = ""] = target.split("/");
  const build = formatPlatform(p);
  return new Map([
    ["TARGETPLATFORM", target],
    ["TARGETOS", tos],
    ["TARGETARCH", tarch],
    ["TARGETVARIANT", tvariant],
    ["BUILDPLATFORM", build],
    ["BUILDOS", p.os],
    ["BUILDARCH", p.architecture],
    ["BUILDVARIANT", p.variant ?? ""],
  ]);
}

export interface ArgDecl {
  name: string;
  /** The default as written (expanded), if any. */
  default: string | undefined;
}

/** `ARG a`, `ARG a=1 b=2`; a bad name is Docker's error. */
export function parseArg(ins: Instruction, vars: Vars, escape: string): ArgDecl[] {
  const words = rawWords(ins.args, escape);
  if (!words.length) throw new InvalidParameterError("ARG requires exactly one argument");
  return words.map((w) => {
    const eq = w.indexOf("=");
    const name = eq < 0 ? w : w.slice(0, eq);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new InvalidParameterError(`invalid ARG name: ${JSON.stringify(name)}`);
    return { name, default: eq < 0 ? undefined : expandWord(w.slice(eq + 1), vars, escape) };
  });
}

/** The value an ARG takes: the build arg, else the (global) default. */
export function argValue(d: ArgDecl, buildArgs: Record<string, string | null>, global: ReadonlyMap<string, string | undefined>, auto: ReadonlyMap<string, string>): string | undefined {
  const given = buildArgs[d.name];
  if (given !== undefined && given !== null) return given;
  if (d.default !== undefined) return d.default;
  if (global.has(d.name)) return global.get(d.name);
  return auto.get(d.name);
}
