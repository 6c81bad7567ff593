// HostConfig.SecurityOpt as dockerd's parseSecurityOpt reads it
// (daemon/daemon_unix.go): "no-new-privileges[=bool]", "seccomp=…",
// "apparmor=…", "label=…" ("key:value" is the deprecated spelling of
// "key=value"); anything else is refused with dockerd's own words.
//
// Beyond dockerd: an AppArmor profile where AppArmor is off, or an SELinux
// label where SELinux is off, is refused instead of silently ignored — the
// user asked for a confinement the host cannot give. "apparmor=unconfined"
// and "label=disable" ask for nothing and pass everywhere (compose files
// carry them across hosts).
import { InvalidParameterError } from "../errors.ts";

export interface HostLsm {
  apparmor: boolean;
  selinux: boolean;
}

export interface SecurityOpts {
  /** undefined: the daemon's default (--no-new-privileges). */
  noNewPrivileges?: boolean;
  /** undefined: the daemon's profile; "unconfined"; "builtin"; otherwise a profile's JSON text. */
  seccomp?: string;
  /** An AppArmor profile name to exec into (only where AppArmor is enabled). */
  apparmor?: string;
  label: string[];
}

/** Go's strconv.ParseBool. */
function parseBool(s: string): boolean | undefined {
  if (["1", "t", "T", "TRUE", "true", "True"].includes(s)) return true;
  if (["0", "f", "F", "FALSE", "false", "False"].includes(s)) return false;
  return undefined;
}

export function parseSecurityOpts(opts: readonly string[] | null | undefined, lsm: HostLsm): SecurityOpts {
  const out: SecurityOpts = { label: [] };
  for (const opt of opts ?? []) {
    if (typeof opt !== "string") throw new InvalidParameterError(`invalid --security-opt: ${JSON.stringify(opt)}`);
    if (opt === "no-new-privileges") {
      out.noNewPrivileges = true;
      continue;
    }
    if (opt === "disable") {
      out.label.push("disable");
      continue;
    }
    const sep = opt.includes("=") ? "=" : opt.includes(":") ? ":" : null;
    if (!sep) throw new InvalidParameterError(`invalid --security-opt 1: ${JSON.stringify(opt)}`);
    const i = opt.indexOf(sep);
    const key = opt.slice(0, i);
    const value = opt.slice(i + 1);
    switch (key) {
      case "label":
        out.label.push(value);
        break;
      case "apparmor":
        out.apparmor = value;
        break;
      case "seccomp":
        out.seccomp = value;
        break;
      case "no-new-privileges": {
        const b = parseBool(value);
        if (b === undefined) throw new InvalidParameterError(`invalid --security-opt 2: ${JSON.stringify(opt)}`);
        out.noNewPrivileges = b;
        break;
      }
      default:
        throw new InvalidParameterError(`invalid --security-opt 2: ${JSON.stringify(opt)}`);
    }
  }
  if (out.apparmor && out.apparmor !== "unconfined" && !lsm.apparmor) {
    throw new InvalidParameterError(`invalid --security-opt apparmor=${out.apparmor}: AppArmor is not enabled on this host`);
  }
  const labels = out.label.filter((l) => l !== "disable");
  if (labels.length && !lsm.selinux) {
    throw new InvalidParameterError(`invalid --security-opt label=${labels[0]}: SELinux is not enabled on this host`);
  }
  return out;
}
