// Starting `ctr init` inside a pid namespace without forking JavaScript.
import { closeSync, openSync } from "node:fs";
import { CLONE_NEWPID, setns, unshare } from "../../kernel/syscalls.ts";

export type Stdio = number | "pipe" | "ignore" | "inherit";
export type Spawned = ReturnType<typeof Bun.spawn>;

/**
 * unshare(CLONE_NEWPID) / setns(pidns) change only pid_ns_for_children of the
 * calling thread (pid_namespaces(7)); Bun.spawn forks from this (the main JS)
 * thread, so its child lands in the new namespace as pid 1 (or, joining, as a
 * new member). All of it happens in one synchronous tick and the thread is
 * switched back right away, so no other spawn of the daemon is affected.
 */
export function spawnInPidNamespace(argv: string[], stdio: Stdio[], joinPid?: number | "host", env: Record<string, string> = {}): Spawned {
  // Not the daemon's env: the container's travels in the spec. cwd "/": a
  // runtime started as `bun` looks for bunfig/package.json/tsconfig in its cwd.
  const spawn = () => Bun.spawn(argv, { stdio: stdio as never, env, cwd: "/" });
  // PidMode host: the daemon's own pid namespace, which is the host's.
  if (joinPid === "host") return spawn();
  const own = openSync("/proc/self/ns/pid", "r");
  let target = -1;
  try {
    if (joinPid !== undefined) {
      target = openSync(`/proc/${joinPid}/ns/pid`, "r");
      setns(target, CLONE_NEWPID);
    } else unshare(CLONE_NEWPID);
    try {
      return spawn();
    } finally {
      setns(own, CLONE_NEWPID);
    }
  } finally {
    closeSync(own);
    if (target >= 0) closeSync(target);
  }
}
