// A started `ctr init` as the driver sees it, whoever its parent is: the
// daemon itself (Bun.spawn, below) or the keeper (keeper-client.ts, with
// --live-restore). The driver only writes the spec, answers the handshake and
// turns it into a RunningProcess.
import type { Readable, Writable } from "node:stream";
import { closeSync } from "node:fs";
import { constants } from "node:os";
import { pipe, setNonblock, type Pipe } from "../../kernel/fds.ts";
import { nodeReadable, nodeWritable } from "./streams.ts";
import { outputReadable, stdinWritable } from "./native-stdio.ts";
import type { Spawned, Stdio } from "./spawn.ts";
import type { ExitStatus } from "./types.ts";
import { SPEC_FD, STATUS_FD } from "./protocol.ts";

/** What the keeper needs to look after a container while no daemon runs. */
export interface KeepInfo {
  id: string;
  log: { path: string; config: Record<string, string> };
  openStdin: boolean;
  startedAt: string;
}

export interface InitChild {
  pid: number;
  /** Our ends of the spec pipe (write) and the status pipe (read). */
  toInit: number;
  fromInit: number;
  stdin: Writable | null;
  stdout: Readable | null;
  stderr: Readable | null;
  /** oomKilled is filled in by the driver. */
  exited: Promise<ExitStatus>;
  running(): boolean;
  kill(signal: number | string): void;
  /** Keeper only: the json log is written by the keeper, not by the daemon. */
  logged?: boolean;
  /** Keeper only: who this child is (its exit gets recorded, its output logged). */
  keep?(info: KeepInfo): void;
  /** Keeper only: lends the keeper a terminal's master; output and input then go through the keeper. */
  lendPty?(master: number): void;
  /** Keeper only: resizes the terminal the keeper holds. */
  resize?(rows: number, cols: number): void;
}

/** The keeper as the driver uses it (keeper-client.ts is the real one; unit tests can pass a fake). */
export interface Keeper {
  /** Starts an init in a new pid namespace as the keeper's child. */
  /** `hostPid`: in the keeper's own pid namespace (PidMode host), not a new one. */
  spawn(io: "pipe" | "ignore", env: Record<string, string>, hostPid?: boolean): Promise<InitChild>;
  /** The container `id` if the keeper holds it with pid 1 = `pid` (its stdio and exit then come through it). */
  adopt(id: string, pid: number): InitChild | null;
  /** The exit it recorded for `id` while no daemon ran (or before the daemon was told). */
  recordedExit(id: string): { pid: number; exitCode: number; signal: number | null; finishedAt: string } | null;
  forgetExit(id: string): void;
  close(): void;
}

const SIGNALS = constants.signals as Record<string, number>;

/**
 * Starts an init as a child of this process. With "pipe" its stdin, stdout and stderr
 * are pipes of ours, as under dockerd (containerd's fifos): Bun's "pipe" is a unix
 * socket, and a socket cannot be opened again through /dev/stdout or /proc/self/fd/1
 * (ENXIO), which images that log to /dev/stdout (nginx's, httpd's) do.
 */
export function spawnLocalInit(io: "pipe" | "ignore", spawn: (stdio: Stdio[]) => Spawned): InitChild {
  if (io === "ignore") return localChild(spawn(["ignore", "ignore", "ignore", "pipe", "pipe"]));
  const made: Pipe[] = [];
  try {
    for (let i = 0; i < 3; i++) made.push(pipe());
  } catch (e) {
    for (const p of made) for (const fd of [p.read, p.write]) closeSync(fd); // EMFILE on the second or third
    throw e;
  }
  const [inp, out, err] = made as [Pipe, Pipe, Pipe];
  // Our ends non-blocking, as the keeper makes its own (the container's stay blocking: separate
  // open files). Bun reads a blocking pipe with preadv2(RWF_NOWAIT) on the event loop, and on
  // an empty pipe that sleeps here (seen: a daemon's main thread in preadv2(fd, …, RWF_NOWAIT),
  // wchan anon_pipe_read, 1 in ~10 runs of dockerode's attach test: `cat` waited for the stdin
  // EOF the frozen loop could not pass on). O_NONBLOCK gets EAGAIN.
  for (const fd of [inp.write, out.read, err.read]) setNonblock(fd);
  let child: Spawned;
  try {
    child = spawn([inp.read, out.write, err.write, "pipe", "pipe"]);
  } catch (e) {
    for (const fd of [inp.write, out.read, err.read]) closeSync(fd);
    throw e;
  } finally {
    for (const fd of [inp.read, out.write, err.write]) closeSync(fd);
  }
  return localChild(child, { stdin: inp.write, stdout: out.read, stderr: err.read });
}

/** A child of this process; `fds`: our ends of its stdio pipes (each closed once done), when not Bun's. */
export function localChild(child: Spawned, fds?: { stdin: number; stdout: number; stderr: number }): InitChild {
  const extra = child.stdio as unknown as number[];
  const running = () => child.exitCode === null && child.signalCode === null;
  const stdin = fds ? stdinWritable(fds.stdin) : nodeWritable(child.stdin);
  // Our end of a stdin pipe closes at the exit at the latest (as Bun's own does): a start
  // that failed, or a caller that never ended it, would keep the descriptor otherwise.
  if (fds) void child.exited.then(() => stdin!.destroy());
  return {
    pid: child.pid,
    toInit: extra[SPEC_FD]!,
    fromInit: extra[STATUS_FD]!,
    stdin,
    stdout: fds ? outputReadable(fds.stdout) : nodeReadable(child.stdout as ReadableStream<Uint8Array>),
    stderr: fds ? outputReadable(fds.stderr) : nodeReadable(child.stderr as ReadableStream<Uint8Array>),
    exited: child.exited.then((code) => {
      const sig = child.signalCode ? (SIGNALS[child.signalCode] ?? null) : null;
      return { exitCode: sig ? 128 + sig : code, signal: sig, oomKilled: false };
    }),
    running,
    kill: (s) => {
      if (running()) child.kill(s as never);
    },
  };
}
