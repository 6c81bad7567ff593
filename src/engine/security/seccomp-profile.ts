// Docker's seccomp profile format (moby/profiles/seccomp: defaultAction,
// architectures or archMap, syscalls with names/action/errnoRet/args and
// includes/excludes by caps, arches and minKernel) resolved for one container
// — its capabilities, this machine's architecture and kernel — into the
// filter the kernel compiler takes, then compiled (and cached: most
// containers share a profile and a capability set).
import { release } from "node:os";
import { compileFilter, KNOWN_ARCHES, nativeScmpArch, SeccompError, type SeccompAction, type SeccompArg, type SeccompFilter, type SeccompOp } from "../../kernel/seccomp/compile.ts";
import { InvalidParameterError } from "../errors.ts";
import DEFAULT_PROFILE from "./seccomp-default.json" with { type: "json" };

interface Filter {
  caps?: string[];
  arches?: string[];
  minKernel?: string;
}

export interface DockerSeccompProfile {
  defaultAction: SeccompAction | "";
  defaultErrnoRet?: number;
  architectures?: string[];
  archMap?: { architecture: string; subArchitectures: string[] | null }[];
  syscalls?: {
    name?: string;
    names?: string[];
    action: SeccompAction;
    errnoRet?: number;
    args?: SeccompArg[] | null;
    includes?: Filter;
    excludes?: Filter;
    comment?: string;
  }[];
  listenerPath?: string;
  flags?: string[];
}

const ACTIONS = new Set(["SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_TRAP", "SCMP_ACT_ERRNO", "SCMP_ACT_TRACE", "SCMP_ACT_ALLOW", "SCMP_ACT_LOG"]);
const OPS = new Set(["SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ"]);

/** Docker's profile arch names (libseccomp's, as moby's goToNative maps GOARCH). */
function profileArch(arch = process.arch): string {
  return ({ x64: "amd64", arm64: "arm64", arm: "arm", ia32: "x86" } as Record<string, string>)[arch] ?? arch;
}

function kernelAtLeast(want: string, have = release()): boolean {
  const v = (s: string) => s.split(/[.-]/).slice(0, 2).map((x) => Number.parseInt(x, 10) || 0);
  const [a = 0, b = 0] = v(have);
  const [c = 0, d = 0] = v(want);
  return a > c || (a === c && b >= d);
}

export const defaultProfile = DEFAULT_PROFILE as DockerSeccompProfile;

/** Parses a profile's JSON text; refuses what neither moby nor runc would load. */
export function parseProfile(text: string): DockerSeccompProfile {
  let p: DockerSeccompProfile;
  try {
    p = JSON.parse(text);
  } catch (e) {
    throw new InvalidParameterError(`Decoding seccomp profile failed: ${(e as Error).message}`);
  }
  if (!p || typeof p !== "object" || Array.isArray(p)) throw new InvalidParameterError("Decoding seccomp profile failed: not a JSON object");
  validate(p);
  return p;
}

function validate(p: DockerSeccompProfile): void {
  const bad = (m: string) => new InvalidParameterError(`invalid seccomp profile: ${m}`);
  if (p.defaultAction && !ACTIONS.has(p.defaultAction)) throw bad(`string ${p.defaultAction} is not a valid action for seccomp`);
  if (p.architectures?.length && p.archMap?.length) throw bad("both 'architectures' and 'archMap' are specified in the seccomp profile, use either 'architectures' or 'archMap'");
  for (const a of [...(p.architectures ?? []), ...(p.archMap ?? []).flatMap((m) => [m.architecture, ...(m.subArchitectures ?? [])])]) {
    if (!KNOWN_ARCHES.has(a)) throw bad(`unknown architecture ${a}`);
  }
  if (p.listenerPath) throw bad("SCMP_ACT_NOTIFY listeners are not supported");
  for (const s of p.syscalls ?? []) {
    if (s.name && s.names?.length) throw bad("both 'name' and 'names' are specified in the seccomp profile, use either 'name' or 'names'");
    if (!ACTIONS.has(s.action)) throw bad(`string ${s.action} is not a valid action for seccomp`);
    for (const a of s.args ?? []) if (!OPS.has(a.op)) throw bad(`string ${a.op} is not a valid operator for seccomp`);
  }
}

function applies(f: Filter | undefined, caps: Set<string>, arch: string, include: boolean): boolean {
  if (!f) return true;
  if (include) {
    if (f.arches?.length && !f.arches.includes(arch)) return false;
    if (f.caps?.length && !f.caps.every((c) => caps.has(c))) return false;
    if (f.minKernel && !kernelAtLeast(f.minKernel)) return false;
    return true;
  }
  if (f.arches?.length && f.arches.includes(arch)) return false;
  if (f.caps?.length && f.caps.some((c) => caps.has(c))) return false;
  if (f.minKernel && kernelAtLeast(f.minKernel)) return false;
  return true;
}

/** moby's setupSeccomp: the rules that apply to a container with `caps` on this machine. null = no filter. */
export function resolveProfile(p: DockerSeccompProfile, caps: readonly string[], arch = process.arch): SeccompFilter | null {
  if (!p.defaultAction && !p.syscalls?.length) return null;
  const native = nativeScmpArch(arch);
  const pa = profileArch(arch);
  const have = new Set(caps);
  const map = p.archMap?.find((m) => m.architecture === native);
  const architectures = p.architectures?.length ? p.architectures : map ? [map.architecture, ...(map.subArchitectures ?? [])] : [];
  const syscalls = (p.syscalls ?? [])
    .filter((s) => applies(s.excludes, have, pa, false) && applies(s.includes, have, pa, true))
    .map((s) => ({ names: s.name ? [s.name] : (s.names ?? []), action: s.action, errnoRet: s.errnoRet, args: s.args ?? null }));
  // An empty defaultAction with rules: libseccomp would refuse it; runc errors too.
  if (!p.defaultAction) throw new InvalidParameterError("invalid seccomp profile: defaultAction is required");
  return { defaultAction: p.defaultAction, defaultErrnoRet: p.defaultErrnoRet, architectures, syscalls };
}

const cache = new Map<string, string | null>();

/**
 * The compiled program (base64 of struct sock_filter[]) for a container:
 * `profile` is "unconfined", "builtin"/undefined (Docker's default), or a
 * profile's JSON text. null = run unconfined.
 */
export function seccompProgram(profile: string | undefined, caps: readonly string[], arch = process.arch): string | null {
  if (profile === "unconfined") return null;
  const text = profile === undefined || profile === "builtin" || profile === "default" ? null : profile;
  const key = `${arch}\0${[...caps].sort().join(",")}\0${text ?? "builtin"}`;
  const hit = cache.get(key);
  if (hit !== undefined) return hit;
  const filter = resolveProfile(text === null ? defaultProfile : parseProfile(text), caps, arch);
  let out: string | null = null;
  if (filter) {
    try {
      out = Buffer.from(compileFilter(filter, nativeScmpArch(arch))).toString("base64");
    } catch (e) {
      if (e instanceof SeccompError) throw new InvalidParameterError(e.message);
      throw e;
    }
  }
  if (cache.size > 64) cache.clear();
  cache.set(key, out);
  return out;
}
