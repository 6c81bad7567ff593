// The daemon runs without JavaScriptCore's DFG (and so without the FTL): the
// interpreter and the baseline JIT stay. Its JavaScript is glue between syscalls,
// SQLite and native streams; the 57 functions a pull and 20 runs got compiled with
// the DFG (validation closures, netlink and tar loops) each touched the DFG
// compiler's own code, ~4 MiB of the binary's pages that no other ctr process maps
// (clients and inits never live long enough to tier up), and its compiled code and
// metadata in the daemon's heap. Without it (issue 16 note, in turns, page cache alike):
// RSS fresh 50.4 vs 53.9 MiB, after two pulls and 20 runs 67–69 vs 73–76 (file −4.2),
// idle 64–65 vs 70 (file −4.2, anon −1.5 to −2.5); the daemon's CPU per `run --rm`,
// `exec` and `ps`, and pull and `logs` times unchanged. (Session 4 rejected this for
// slower request validation; validating a create body costs 0.05–0.3 ms either way.)
// JSC reads its options once, from the environment, when the runtime starts: a
// daemon started by a client (autostart) gets it in its environment; one started
// as `ctr daemon` re-executes itself once with it (same pid, argv and fds; ~20 ms of
// daemon start). A value the user set is kept, and from source nothing changes.
import { readFileSync } from "node:fs";
import { isCompiled } from "./self.ts";

export const DFG_OPTION = "BUN_JSC_useDFGJIT";

/** The environment a daemon should be started with (the caller's, plus the option unless set). */
export function daemonEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return env[DFG_OPTION] === undefined ? { ...env, [DFG_OPTION]: "0" } : env;
}

/** Replaces this (compiled) process with itself under daemonEnv(); returns when nothing needs doing. */
export async function reexecWithoutDFG(warn: (msg: string) => void): Promise<void> {
  if (!isCompiled() || process.env[DFG_OPTION] !== undefined) return;
  try {
    // The arguments exactly as this process got them (process.argv has the runtime's own first two).
    const argv = readFileSync("/proc/self/cmdline", "utf8").split("\0").slice(0, -1);
    const env = Object.entries(daemonEnv()).map(([k, v]) => `${k}=${v}`);
    const { execve } = await import("./kernel/syscalls.ts");
    // /proc/self/exe: this very image, even if an upgrade replaced the file on disk meanwhile.
    execve("/proc/self/exe", argv, env);
  } catch (e) {
    // Only memory is at stake (no /proc, an execve a sandbox refuses): the daemon runs on as it is.
    warn(`running with JavaScriptCore's DFG: re-executing without it failed (${(e as Error).message})`);
  }
}
