// What the daemon and `ctr init` say to each other. Never argv: the spec can
// hold secrets (env) and argv is world-readable in /proc.
//
//   fd 3 (daemon → init): one JSON InitMessage line, then answers ("go", "ok").
//   fd 4 (init → daemon): "ready" once the namespaces exist (the daemon moves
//     the process into its cgroup, plugs the network, answers "go");
//     "pty <fd>" when a terminal's master is ready to be taken with
//     pidfd_getfd (answered "ok"); "error <exit code> <message>" on failure.
//     fd 4 is close-on-exec, so EOF without an error means the command runs.
import type { Confinement, ContainerSpec, ExecSpec, ProcessSpec } from "./types.ts";

export const SPEC_FD = 3;
export const STATUS_FD = 4;
/** Reaper mode only: the command stage tells pid 1 it has loaded (before pivot_root takes its files away). */
export const HELLO_FD = 5;

/** What runs the user's command: process, identity and privileges. */
export interface FinalStage {
  process: ProcessSpec;
  capabilities: string[];
  noNewPrivileges: boolean;
  confinement?: Confinement;
  /** A pty slave path inside the container to become stdio and controlling tty. */
  consoleSlave: string | null;
  /** The container's user namespace (a descriptor of init's): the command is forked into it (userns-stage.ts). */
  usernsFd?: number;
}

export type InitMessage =
  /** `initCommand`/`initEnv`: how the reaper (spec.init) re-runs this program for the command stage. */
  | { kind: "start"; spec: ContainerSpec; initCommand: string[]; initEnv: Record<string, string> }
  | { kind: "exec"; pid: number; spec: ExecSpec }
  /** The command stage under a reaper (docker run --init). */
  | ({ kind: "child" } & FinalStage);

export type StatusLine =
  | { type: "ready" }
  | { type: "pty"; fd: number }
  | { type: "error"; code: number; message: string }
  | { type: "unknown"; line: string };

export function parseStatus(line: string): StatusLine {
  if (line === "ready") return { type: "ready" };
  let m = /^pty (\d+)$/.exec(line);
  if (m) return { type: "pty", fd: Number(m[1]) };
  m = /^error (\d+) ([\s\S]*)$/.exec(line);
  if (m) return { type: "error", code: Number(m[1]), message: m[2]! };
  return { type: "unknown", line };
}

export function errorLine(code: number, message: string): string {
  return `error ${code} ${message.replace(/\n/g, " ")}`;
}

/** cgroup.procs files (":"-separated) an init started ahead writes itself into before it waits for its spec. */
export const JOIN_CGROUP_ENV = "CTR_INIT_JOIN_CGROUP";

/** Set by a daemon with --userns-remap: an init started ahead compiles the user-namespace helper before its spec comes. */
export const USERNS_INIT_ENV = "CTR_INIT_USERNS";
