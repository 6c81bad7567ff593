// What confines a container's command besides capabilities, applied by
// `ctr init` in runc's order (libcontainer/standard_init_linux.go):
//   1. rlimits while still privileged (raising a hard limit needs CAP_SYS_RESOURCE);
//   2. the AppArmor label the command is exec'd into;
//   3. seccomp: without no_new_privs loading a filter needs CAP_SYS_ADMIN, so it
//      goes in before the identity switch drops it (the filter must then allow
//      init's last calls — setgroups, setres[ug]id, capset, prctl, execve — as
//      Docker's does); with no_new_privs it goes in last, right before execve,
//      so as few of init's own calls as possible run under the user's profile.
import { existsSync, writeFileSync } from "node:fs";
import type { Syscalls } from "../../kernel/syscall-types.ts";
import type { PathMap } from "./rootfs.ts";
import type { Confinement } from "./types.ts";

export function confineBeforeIdentity(sys: Syscalls, path: PathMap, c: Confinement | undefined, noNewPrivileges: boolean): void {
  if (!c) return;
  for (const r of c.rlimits ?? []) sys.setrlimit(r.resource, r.soft, r.hard);
  if (c.apparmorProfile && c.apparmorProfile !== "unconfined") execLabel(path, c.apparmorProfile);
  if (c.seccomp && !noNewPrivileges) sys.seccomp(Buffer.from(c.seccomp, "base64"));
}

/** After no_new_privs is set: the last thing before execve. */
export function confineBeforeExec(sys: Syscalls, c: Confinement | undefined, noNewPrivileges: boolean): void {
  if (c?.seccomp && noNewPrivileges) sys.seccomp(Buffer.from(c.seccomp, "base64"));
}

/** AppArmor's "change profile on exec" (aa_change_onexec): newer kernels have the per-LSM path. */
function execLabel(path: PathMap, profile: string): void {
  const lsm = "/proc/thread-self/attr/apparmor/exec";
  writeFileSync(path(existsSync(path(lsm)) ? lsm : "/proc/thread-self/attr/exec"), `exec ${profile}`);
}
