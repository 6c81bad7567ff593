// The exec driver: starts `ctr init` as pid 1 of a new pid namespace (or
// inside a running container's, for exec), feeds it the spec over a pipe,
// answers its handshake (cgroup + network at "ready", the pty master at
// "pty"), and turns the child into a RunningProcess. The init is a direct
// child of the daemon (Bun reaps it and reports the status; no shim process),
// or with --live-restore a child of the keeper (keeper.ts), one process for
// all containers, so containers outlive the daemon.
import { closeSync, writeFileSync, writeSync } from "node:fs";
import type { CgroupManager, CgroupStats } from "../../kernel/cgroups/types.ts";
import { close as closeFd, pidfdGetfd, pidfdOpen } from "../../kernel/syscalls.ts";
import { setWinsize } from "../../kernel/pty.ts";
import { selfCommand as defaultSelf } from "../../self.ts";
import { ConflictError, EngineError } from "../errors.ts";
import { LineReader } from "./lines.ts";
import { processTable, systemCpuNs } from "./procfs.ts";
import { JOIN_CGROUP_ENV, parseStatus, SPEC_FD, STATUS_FD, type InitMessage } from "./protocol.ts";
import { spawnInPidNamespace } from "./spawn.ts";
import { WarmInit } from "./warm.ts";
import { coversNatively, nativeExec, TooLargeForNative } from "./native-exec.ts";
import { ptyStreams } from "./streams.ts";
import { spawnLocalInit, type InitChild, type Keeper } from "./init-child.ts";
import type { ContainerSpec, ExecSpec, ExitStatus, ProcessTable, RunningProcess, StartHooks } from "./types.ts";

/** The container (or exec) could not start; `exitCode` is what Docker reports (126, 127, …). */
export class StartError extends EngineError {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
    this.name = "StartError";
  }
}

export interface ExecDriverDeps {
  cgroups: CgroupManager;
  /** argv prefix that re-runs this program (src/self.ts); `init` is appended. */
  selfCommand?: () => string[];
  /** Overrides the whole init argv (e.g. a small separate init bundle, see init-entry.ts). */
  initCommand?: string[];
  /** Environment of the init process (e.g. BUN_BE_BUN=1 for a compiled binary running a script). */
  initEnv?: Record<string, string>;
  /** Keep one init started ahead for the next container start (see warm.ts); off by default. */
  warmInit?: boolean;
  /** Names this daemon's warm cgroups, so side-by-side daemons never remove each other's (warm.ts). */
  warmTag?: string;
  /** --live-restore: containers are started as the keeper's children (keeper.ts); execs stay ours. */
  keeper?: Keeper;
  /** Execs the daemon clones itself where it can (native-exec.ts) instead of through `ctr init`. */
  nativeExec?: boolean;
}

export interface DriverStats extends CgroupStats {
  systemCpu: number;
  onlineCpus: number;
}

interface Launch {
  message: InitMessage;
  cgroupId: string;
  terminal: boolean;
  consoleSize?: { rows: number; cols: number };
  /** A pid to join the pid namespace of, or "host" (PidMode host); else a new one. */
  joinPid?: number | "host";
  onReady?: (pid: number) => Promise<void>;
  /** An init started ahead, already in the cgroup (warm.ts). */
  child?: InitChild | null;
  /** Through the keeper (a container with --live-restore) or ours (exec, or no keeper). */
  kept?: boolean;
  keep?: StartHooks["keep"];
}

/** What restore() finds of a container a previous daemon started. */
export type Restored = { proc: RunningProcess } | { exit: ExitStatus & { finishedAt: string } } | null;

export class ExecDriver {
  private readonly cgroups: CgroupManager;
  private readonly initCommand: string[];
  private readonly initEnv: Record<string, string>;

  private readonly keeper: Keeper | null;
  private readonly nativeExec: boolean;

  constructor(deps: ExecDriverDeps) {
    this.nativeExec = !!deps.nativeExec;
    this.cgroups = deps.cgroups;
    this.initCommand = deps.initCommand ?? [...(deps.selfCommand ?? defaultSelf)(), "init"];
    this.initEnv = deps.initEnv ?? {};
    this.keeper = deps.keeper ?? null;
    if (deps.warmInit) this.warm = new WarmInit((procs) => this.spawnInit("pipe", undefined, { [JOIN_CGROUP_ENV]: procs.join(":") }, !!this.keeper), this.cgroups, undefined, deps.warmTag);
  }

  private readonly warm: WarmInit | null = null;

  private async spawnInit(io: "pipe" | "ignore", joinPid?: number | "host", env: Record<string, string> = {}, kept = false): Promise<InitChild> {
    // The keeper spawns into a new pid namespace or its own (the host's): a pid joiner stays the daemon's child.
    if (kept && this.keeper && (joinPid === undefined || joinPid === "host")) return this.keeper.spawn(io, env, joinPid === "host");
    return spawnLocalInit(io, (stdio) => spawnInPidNamespace(this.initCommand, stdio, joinPid, { ...this.initEnv, ...env }));
  }

  /** Daemon shutdown: stops the init kept ahead and removes its cgroup; the keeper goes on alone. */
  async close(): Promise<void> {
    await this.warm?.close();
    this.keeper?.close();
  }

  /**
   * After a daemon restart with --live-restore: the container `id` (pid 1 =
   * `pid`) as the keeper holds it, or its exit as the keeper recorded it
   * while no daemon ran; null when the keeper knows nothing of it.
   */
  restore(id: string, pid: number): Restored {
    if (!this.keeper) return null;
    const child = this.keeper.adopt(id, pid);
    if (child) return { proc: this.running(child, id, null) };
    const rec = this.keeper.recordedExit(id);
    if (!rec || rec.pid !== pid) return null;
    return { exit: { exitCode: rec.exitCode, signal: rec.signal, oomKilled: this.cgroups.exists(id) && this.cgroups.oomKills(id) > 0, finishedAt: rec.finishedAt } };
  }

  /** Creates the cgroup, starts the container's pid 1 and resolves once its command runs. */
  async start(spec: ContainerSpec, hooks: StartHooks = {}): Promise<RunningProcess> {
    // A terminal's init gets no stdio pipes; the one kept ahead has them, so it serves the others.
    // One kept ahead sits in a pid namespace of its own: a pid joiner needs a fresh spawn.
    // One kept ahead waits below the daemon's parent: a cgroup cannot be renamed into another parent.
    const child = spec.process.terminal || spec.joinPid || spec.hostPid || spec.cgroupParent ? null : ((await this.warm?.take(spec.id)) ?? null);
    const resources = { ...spec.cgroup, devices: spec.privileged ? ("all" as const) : ("default" as const) };
    this.cgroups.place(spec.id, spec.cgroupParent);
    this.cgroups.create(spec.id, resources);
    const launch = (c: typeof child) =>
      this.launch({
        child: c,
        message: { kind: "start", spec: { ...spec, cgroupView: this.cgroups.containerView(spec.id) }, initCommand: this.initCommand, initEnv: this.initEnv },
        cgroupId: spec.id,
        terminal: spec.process.terminal,
        consoleSize: spec.process.consoleSize,
        onReady: async (pid) => {
          if (spec.oomScoreAdj) writeFileSync(`/proc/${pid}/oom_score_adj`, String(spec.oomScoreAdj));
          await hooks.onNetns?.(pid);
        },
        joinPid: spec.hostPid ? "host" : spec.joinPid,
        kept: true,
        keep: hooks.keep,
      });
    try {
      try {
        return await launch(child);
      } catch (e) {
        // An init kept ahead can die while it waits (killed with its cgroup by an older daemon's
        // cleanup on the same host, or by the OOM killer): the start itself is fine, boot a fresh one.
        if (!child || !(e instanceof StartError) || !e.message.includes("before it was ready")) throw e;
        this.cgroups.create(spec.id, resources);
        return await launch(null);
      }
    } catch (e) {
      await this.cgroups.remove(spec.id).catch(() => {});
      throw e;
    } finally {
      this.warm?.refill();
    }
  }

  /** Runs another process in a running container (`pid` is its pid 1 as the host sees it). */
  async exec(id: string, pid: number, spec: ExecSpec): Promise<RunningProcess> {
    if (this.nativeExec && coversNatively(spec)) {
      try {
        return await nativeExec(id, pid, this.cgroups.procsFiles(id), spec, (m, code) => new StartError(m, code));
      } catch (e) {
        if (!(e instanceof TooLargeForNative)) throw e;
      }
    }
    try {
      return await this.launch({ message: { kind: "exec", pid, spec }, cgroupId: id, terminal: spec.terminal, consoleSize: spec.consoleSize, joinPid: pid });
    } catch (e) {
      // fork(2) into a pid namespace whose init has ended fails with ENOMEM: the container
      // exited between the check and the spawn. dockerd answers that with a 409 (the soak
      // hit it 35 times in 30 minutes, each a 500 with a stack trace in the log).
      if ((e as { code?: string }).code === "ENOMEM") throw new ConflictError(`Container ${id} is not running`);
      throw e;
    }
  }

  /** Where the cgroup of container `id` is (its CgroupParent): after a daemon restart, before anything else about it. */
  place(id: string, cgroupParent?: string): void {
    this.cgroups.place(id, cgroupParent);
  }

  /** New limits for a running container's cgroup (docker update). */
  update(id: string, r: import("./types.ts").Resources): void {
    this.cgroups.update(id, r);
  }

  pause(id: string): Promise<void> {
    return this.cgroups.freeze(id);
  }
  resume(id: string): Promise<void> {
    return this.cgroups.thaw(id);
  }
  stats(id: string): DriverStats {
    return { ...this.cgroups.stats(id), systemCpu: systemCpuNs(), onlineCpus: navigator.hardwareConcurrency };
  }
  processes(id: string): ProcessTable {
    return processTable(this.cgroups.pids(id));
  }
  pids(id: string): number[] {
    return this.cgroups.pids(id);
  }
  /**
   * Container cgroups that exist now (ids). After a daemon restart the
   * containers are no longer our children (no exit status, no stdio): the
   * reconciler compares this list with the store and cleans up.
   */
  leftovers(): string[] {
    return this.cgroups.list();
  }
  /** Kills leftovers and removes the container's cgroup (and the exit the keeper recorded). */
  cleanup(id: string): Promise<void> {
    this.keeper?.forgetExit(id);
    return this.cgroups.remove(id);
  }

  private async launch(l: Launch): Promise<RunningProcess> {
    // A terminal's pty is opened by init inside the container; its stdio is unused until then.
    const io = l.terminal ? "ignore" : "pipe";
    const child = l.child ?? (await this.spawnInit(io, l.joinPid, {}, l.kept));
    const { toInit, fromInit } = child;
    let master: number | null = null;
    try {
      // Into the container's cgroup at once: the first migration of a multi-threaded
      // process waits for an RCU grace period (~5 ms), which now overlaps init's load.
      if (!l.child) this.cgroups.addProcess(l.cgroupId, child.pid);
      // The keeper learns who this is before the command runs: an exit from now on is recorded.
      if (l.keep) child.keep?.({ ...l.keep, id: l.cgroupId });
      writeSync(toInit, JSON.stringify(l.message) + "\n");
      master = await this.handshake(child, toInit, fromInit, l);
    } catch (e) {
      if (master !== null) closeFd(master);
      child.kill(9);
      await child.exited;
      throw e;
    } finally {
      closeSync(toInit);
      closeSync(fromInit);
    }
    if (master !== null && child.lendPty) {
      child.lendPty(master);
      // The keeper takes its copy asynchronously; ours goes once the container has ended.
      const fd = master;
      void child.exited.then(() => closeFd(fd));
    }
    return this.running(child, l.kept ? l.cgroupId : null, master);
  }

  /** The RunningProcess of a started (or adopted) init; `cgroupId` set for a container's pid 1. */
  private running(child: InitChild, cgroupId: string | null, master: number | null): RunningProcess {
    // The kernel counts OOM kills per cgroup; read it once pid 1 is gone (Docker's State.OOMKilled).
    const exited = cgroupId ? child.exited.then((x) => ({ ...x, oomKilled: this.cgroups.oomKills(cgroupId) > 0 })) : child.exited;
    const base = { pid: child.pid, exited, kill: (s: number | string) => child.kill(s), logged: child.logged };
    // Through the keeper a terminal's bytes come and go as stdin/stdout, and it resizes the master it holds.
    if (child.resize) return { ...base, stdin: child.stdin, stdout: child.stdout, stderr: child.stderr, resize: (r, c) => child.resize!(r, c) };
    if (master !== null) {
      const fd = master;
      const pty = ptyStreams(fd);
      return { ...base, stdin: pty.input, stdout: pty.output, stderr: null, resize: (r, c) => setWinsize(fd, r, c) };
    }
    return { ...base, stdin: child.stdin, stdout: child.stdout, stderr: child.stderr };
  }

  /** Answers init until its status pipe closes (= the command was exec'd). Returns the pty master if any. */
  private async handshake(child: InitChild, toInit: number, fromInit: number, l: Launch): Promise<number | null> {
    const lines = new LineReader(fromInit);
    let ready = false;
    let master: number | null = null;
    for (;;) {
      const line = await lines.next();
      if (line === null) break;
      const st = parseStatus(line);
      if (st.type === "ready") {
        ready = true;
        await l.onReady?.(child.pid);
        writeSync(toInit, "go\n");
      } else if (st.type === "pty") {
        const pidfd = pidfdOpen(child.pid);
        try {
          master = pidfdGetfd(pidfd, st.fd);
        } finally {
          closeFd(pidfd);
        }
        if (l.consoleSize) setWinsize(master, l.consoleSize.rows, l.consoleSize.cols);
        writeSync(toInit, "ok\n");
      } else if (st.type === "error") {
        if (master !== null) closeFd(master);
        await child.exited;
        throw new StartError(st.message, st.code);
      }
    }
    if (!ready) {
      const x = await child.exited;
      throw new StartError(`container init exited before it was ready (status ${x.signal ? `signal ${x.signal}` : x.exitCode})`, 127);
    }
    return master;
  }
}
