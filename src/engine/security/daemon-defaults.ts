// The daemon's security flags (--seccomp-profile, --no-new-privileges,
// --default-ulimit) turned into SecurityDefaults, checked at startup so a bad
// profile stops the daemon rather than every container start; and the
// SecurityOptions `info` lists, as dockerd words them.
import { readFileSync } from "node:fs";
import { apparmorEnabled, selinuxEnabled } from "../../kernel/lsm.ts";
import { DEFAULT_CAPS } from "../containers/spec.ts";
import { parseUlimit, type SecurityDefaults } from "./policy.ts";
import { seccompProgram } from "./seccomp-profile.ts";
import { setupRemap } from "./userns-remap.ts";

export interface SecurityFlags {
  /** A profile path, "unconfined", or "builtin"/undefined for Docker's default. */
  seccompProfile?: string;
  noNewPrivileges?: boolean;
  defaultUlimits?: string[];
  /** --userns-remap: default | user[:group] | uid[:gid] */
  usernsRemap?: string;
}

export function securityDefaults(f: SecurityFlags): SecurityDefaults {
  const p = f.seccompProfile;
  const text = p === undefined || p === "" || p === "builtin" || p === "default" ? undefined : p === "unconfined" ? "unconfined" : readFileSync(p, "utf8");
  // Fails now, with the profile's problem, if it cannot be compiled.
  seccompProgram(text, DEFAULT_CAPS);
  // A bad --userns-remap stops the daemon (dockerd's messages), as dockerd does.
  const userns = setupRemap(f.usernsRemap);
  return {
    seccompProfile: text,
    seccompProfileName: text === undefined ? "default" : p,
    noNewPrivileges: !!f.noNewPrivileges,
    defaultUlimits: (f.defaultUlimits ?? []).map(parseUlimit),
    lsm: { apparmor: apparmorEnabled(), selinux: selinuxEnabled() },
    ...(userns ? { userns } : {}),
  };
}

/** dockerd's Info.SecurityOptions entries (daemon/info_unix.go). */
export function securityOptions(d: SecurityDefaults, cgroupVersion: "1" | "2"): string[] {
  const out: string[] = [];
  if (d.lsm.apparmor) out.push("name=apparmor");
  out.push(`name=seccomp,profile=${d.seccompProfileName ?? "default"}`);
  if (d.lsm.selinux) out.push("name=selinux");
  if (d.userns) out.push("name=userns");
  if (cgroupVersion === "2") out.push("name=cgroupns");
  if (d.noNewPrivileges) out.push("name=no-new-privileges");
  return out;
}
