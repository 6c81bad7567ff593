// What the daemon and the keeper say to each other (control frames of
// keeper-wire.ts), and where the keeper keeps things under the exec root.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";

/** How the daemon wants the container's output written while it is away (json-file). */
export interface KeptLog {
  path: string;
  config: Record<string, string>;
}

export type ToKeeper =
  /** First message of a connection: the keeper answers with `state`. */
  | { op: "hello" }
  /** Start `argv` (a `ctr init`) in a new pid namespace (or joining `joinPid`'s); stdio pipes unless "ignore". */
  | { op: "spawn"; seq: number; argv: string[]; env: Record<string, string>; io: "pipe" | "ignore"; hostPid?: boolean }
  /** The daemon holds its copies of the spec and status pipes: the keeper drops its own. */
  | { op: "taken"; pid: number }
  /** The child is container `id` now: its exit is recorded, its output logged. */
  | { op: "register"; pid: number; id: string; log: KeptLog; openStdin: boolean; startedAt: string }
  /** A terminal's master, to be taken from the daemon with pidfd_getfd. */
  | { op: "pty"; pid: number; from: number; fd: number }
  | { op: "stdin-end"; pid: number }
  | { op: "resize"; pid: number; rows: number; cols: number }
  /** Signals go through the parent: a pid it has not reaped cannot have been reused. */
  | { op: "kill"; pid: number; signal: number }
  /** Re-execute as `argv` (a newer ctr), keeping every child, pipe and log. */
  | { op: "upgrade"; argv: string[]; env: Record<string, string> };

/** A registered child as `state` reports it. */
export interface KeptChild {
  pid: number;
  id: string;
  startedAt: string;
}

export type FromKeeper =
  /** `build`: scriptHash of the init script it loaded (a new build at the same path differs here). */
  | { op: "state"; pid: number; argv: string[]; execPath: string; build: string; children: KeptChild[] }
  | { op: "spawned"; seq: number; pid: number; spec: number; status: number }
  | { op: "failed"; seq: number; message: string }
  /** No more output on `stream` (1 stdout, 2 stderr). */
  | { op: "eof"; pid: number; stream: 1 | 2 }
  /** Sent after the last output frame and eofs of the child. */
  | { op: "exit"; pid: number; exitCode: number; signal: number | null };

/** The exit of a registered container, written (temp + rename) before the daemon is told. */
export interface ExitRecord {
  id: string;
  pid: number;
  exitCode: number;
  signal: number | null;
  finishedAt: string;
}

export const keeperPaths = (execRoot: string) => ({
  socket: join(execRoot, "keeper.sock"),
  /** What a re-executing keeper hands its next image. */
  state: join(execRoot, "keeper.state"),
  log: join(execRoot, "keeper.log"),
  exits: join(execRoot, "exits"),
  exit: (id: string) => join(execRoot, "exits", `${id}.json`),
});

/** Identifies the init script a keeper runs (the compiled binary's init bundle, or the source entry). */
export function scriptHash(path: string | undefined): string {
  if (!path) return "";
  try {
    return createHash("sha256").update(readFileSync(path)).digest("hex").slice(0, 16);
  } catch {
    return "";
  }
}
