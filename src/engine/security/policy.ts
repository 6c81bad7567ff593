// A container's confinement from its HostConfig and the daemon's defaults, as
// dockerd derives it (daemon/oci_linux.go WithSeccomp, WithRlimits,
// parseSecurityOpt): seccomp profile (none with --privileged), no_new_privs
// (off unless asked for, as Docker: setuid programs work), rlimits (the
// container's --ulimit over the daemon's --default-ulimit), AppArmor label.
import { RLIMITS } from "../../kernel/rlimit-names.ts";
import type { HostConfig } from "../containers/types.ts";
import type { Confinement, Rlimit } from "../execdriver/types.ts";
import { InvalidParameterError } from "../errors.ts";
import { seccompProgram } from "./seccomp-profile.ts";
import { parseSecurityOpts, type HostLsm } from "./security-opts.ts";

/** Docker's ulimit shape (HostConfig.Ulimits, daemon default-ulimits). */
export interface Ulimit {
  Name: string;
  Soft: number;
  Hard: number;
}

export interface SecurityDefaults {
  /** daemon --seccomp-profile: a profile's JSON text, "unconfined", or undefined for Docker's default. */
  seccompProfile?: string;
  /** The name `info` shows for it (the path given, or "default"). */
  seccompProfileName?: string;
  /** daemon --no-new-privileges */
  noNewPrivileges: boolean;
  /** daemon --default-ulimit */
  defaultUlimits: Ulimit[];
  lsm: HostLsm;
}

export function defaultSecurity(lsm: HostLsm = { apparmor: false, selinux: false }): SecurityDefaults {
  return { noNewPrivileges: false, defaultUlimits: [], lsm };
}

/** go-units ParseUlimit: "name=soft[:hard]". */
export function parseUlimit(s: string): Ulimit {
  const m = /^([^=]*)=(.*)$/.exec(s);
  if (!m) throw new InvalidParameterError(`invalid ulimit argument: ${s}`);
  const [, name, limits] = m as unknown as [string, string, string];
  if (!Object.hasOwn(RLIMITS, name)) throw new InvalidParameterError(`invalid ulimit type: ${name}`);
  const parts = limits.split(":");
  if (parts.length > 2) throw new InvalidParameterError(`too many limit value arguments - ${limits}, can only have up to two, \`soft[:hard]\``);
  const nums = parts.map((p) => {
    if (!/^-?\d+$/.test(p)) throw new InvalidParameterError(`strconv.ParseInt: parsing ${JSON.stringify(p)}: invalid syntax`);
    return Number(p);
  });
  const u = { Name: name, Soft: nums[0]!, Hard: nums[1] ?? nums[0]! };
  checkUlimit(u);
  return u;
}

function checkUlimit(u: Ulimit): void {
  if (!Object.hasOwn(RLIMITS, u.Name)) throw new InvalidParameterError(`invalid ulimit type: ${u.Name}`);
  if (!Number.isSafeInteger(u.Soft) || !Number.isSafeInteger(u.Hard)) throw new InvalidParameterError(`invalid ulimit value for ${u.Name}`);
  // -1 is unlimited on either side.
  if (u.Hard !== -1 && (u.Soft === -1 || u.Soft > u.Hard)) {
    throw new InvalidParameterError(`ulimit soft limit must be less than or equal to hard limit: ${u.Soft} > ${u.Hard}`);
  }
}

function rlimits(h: HostConfig, d: SecurityDefaults): Rlimit[] {
  const own = (h.Ulimits as Ulimit[] | null | undefined) ?? [];
  const names = new Set(own.map((u) => u.Name));
  return [...own, ...d.defaultUlimits.filter((u) => !names.has(u.Name))].map((u) => ({ resource: RLIMITS[u.Name]!, soft: u.Soft, hard: u.Hard }));
}

/** Refuses at create what would fail at start: bad options, an unloadable profile, bad ulimits. */
export function validateSecurity(h: HostConfig, caps: string[], d: SecurityDefaults): void {
  if (h.Ulimits !== undefined && h.Ulimits !== null && !Array.isArray(h.Ulimits)) throw new InvalidParameterError("Ulimits must be an array");
  for (const u of (h.Ulimits as Ulimit[] | null | undefined) ?? []) checkUlimit(u);
  // dockerd accepts any UsernsMode and runs in the host's user namespace anyway; a user namespace we
  // cannot give is refused rather than silently not given (no --userns-remap yet).
  const userns = h.UsernsMode as string | undefined;
  if (userns && userns !== "host") throw new InvalidParameterError(`invalid UsernsMode ${JSON.stringify(userns)}: this daemon runs containers in the host's user namespace only (--userns-remap is not supported)`);
  containerConfinement(h, caps, d);
}

export function containerConfinement(h: HostConfig, caps: string[], d: SecurityDefaults): { noNewPrivileges: boolean; confinement: Confinement } {
  const o = parseSecurityOpts(h.SecurityOpt as string[] | null | undefined, d.lsm);
  const seccomp = h.Privileged ? null : seccompProgram(o.seccomp ?? d.seccompProfile, caps);
  const limits = rlimits(h, d);
  return {
    noNewPrivileges: o.noNewPrivileges ?? d.noNewPrivileges,
    confinement: {
      ...(seccomp ? { seccomp } : {}),
      ...(limits.length ? { rlimits: limits } : {}),
      ...(o.apparmor && o.apparmor !== "unconfined" ? { apparmorProfile: o.apparmor } : {}),
    },
  };
}
