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
import type { UsernsRemap } from "./userns-remap.ts";
import type { AutoMap } from "./userns-ranges.ts";
import { checkUlimit, type Ulimit } from "./ulimits.ts";

export { parseUlimit, type Ulimit } from "./ulimits.ts";

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
  /** daemon --userns-remap (userns-remap.ts); absent = containers share the host's user namespace. */
  userns?: UsernsRemap;
  /** Where --userns=auto blocks are kept (userns-ranges.ts). */
  autoRanges?: { get(id: string): AutoMap | null; allocate(id: string, remap: UsernsRemap): AutoMap };
}

export function defaultSecurity(lsm: HostLsm = { apparmor: false, selinux: false }): SecurityDefaults {
  return { noNewPrivileges: false, defaultUlimits: [], lsm };
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
  validateUserns(h, d);
  containerConfinement(h, caps, d);
}

/**
 * UsernsMode "" (the daemon's choice), "host", or "auto" (beyond Docker). dockerd accepts any other
 * value and ignores it; a user namespace we cannot give is refused rather than silently not given.
 * Under --userns-remap, dockerd's verifyPlatformContainerSettings refusals, in its words.
 */
function validateUserns(h: HostConfig, d: SecurityDefaults): void {
  const mode = (h.UsernsMode as string | undefined) ?? "";
  if (mode !== "" && mode !== "host" && mode !== "auto") throw new InvalidParameterError(`invalid UsernsMode ${JSON.stringify(mode)}: use "host" or "auto"`);
  if (mode === "auto" && !d.userns) throw new InvalidParameterError(`UsernsMode "auto" needs a daemon started with --userns-remap (its subordinate ids are where each container's range comes from)`);
  if (!d.userns || mode === "host") return;
  if (h.Privileged) throw new InvalidParameterError("privileged mode is incompatible with user namespaces.  You must run the container in the host namespace when running privileged mode");
  if (h.NetworkMode === "host") throw new InvalidParameterError("cannot share the host's network namespace when user namespaces are enabled");
  if (h.PidMode === "host") throw new InvalidParameterError("cannot share the host PID namespace when user namespaces are enabled");
}

/** The user namespace a container runs in: the daemon's shared map, its own --userns=auto block, or none (host). */
export function containerUserns(id: string, h: HostConfig, d: SecurityDefaults): AutoMap | undefined {
  if (!d.userns || h.UsernsMode === "host") return undefined;
  if (h.UsernsMode === "auto") {
    const own = d.autoRanges?.get(id);
    // Never fall back to the host's: a container asked for a namespace of its own.
    if (!own) throw new InvalidParameterError(`container ${id} has no --userns=auto range recorded`);
    return own;
  }
  return { uidMap: d.userns.uidMap, gidMap: d.userns.gidMap };
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
