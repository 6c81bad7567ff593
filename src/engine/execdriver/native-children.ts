// Exits of the processes the daemon cloned itself (native-exec.ts), which
// its runtime knows nothing of.
//
// Bun cannot watch an arbitrary fd, so a pidfd is no use here (Bun.file(pidfd)
// reads it: EINVAL). The exit comes as SIGCHLD instead, and each child we
// hold is reaped by pid (waitid P_PID, WNOHANG), as the keeper does. Bun
// itself waits per pid too (wait4(pid) on its own children: process.zig,
// pidfd or waiter thread), never for -1, so it cannot take our statuses, and
// we never take its: nothing here waits for any pid but our own.
import { reapChild } from "../../kernel/fds.ts";
import type { ExitStatus } from "./types.ts";

const waiting = new Map<number, (x: ExitStatus) => void>();
let listening = false;

function reapOurs(): void {
  for (const [pid, done] of waiting) {
    const st = reapChild(pid);
    if (!st) continue;
    waiting.delete(pid);
    done({ exitCode: st.code, signal: st.signal, oomKilled: false });
  }
}

/** Call before the child exists, so no SIGCHLD can come before the handler. */
export function listen(): void {
  if (listening) return;
  listening = true;
  process.on("SIGCHLD", reapOurs);
}

/** The exit of `pid`, a child of ours (listen() was called before it was made). */
export function exitOf(pid: number): Promise<ExitStatus> {
  listen();
  const exited = new Promise<ExitStatus>((resolve) => waiting.set(pid, resolve));
  // It may already have ended before it was put here (the SIGCHLD then found nothing to reap).
  reapOurs();
  return exited;
}

/** Looks again now (a hint such as its output pipes closing); the SIGCHLD handler does the same. */
export function poke(): void {
  reapOurs();
}

/** Whether `pid` is one of ours and has not been reaped (so signalling it cannot hit a recycled pid). */
export function running(pid: number): boolean {
  return waiting.has(pid);
}
