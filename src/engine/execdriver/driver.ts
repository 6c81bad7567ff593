// The exec driver: starts `ctr init` as pid 1 of a new pid namespace (or
// inside a running container's, for exec), feeds it the spec over a pipe,
// answers its handshake (cgroup + network at "ready", the pty master at
// "pty"), and turns the child into a RunningProcess. The init is a direct
// child of the daemon: Bun reaps it and reports the status; no shim process.
import { closeSync, writeSync } from "node:fs";
import { constants } from "node:os";
import type { CgroupManager, CgroupStats } from "../../kernel/cgroups/types.ts";
import { close as closeFd, pidfdGetfd, pidfdOpen } from "../../kernel/syscalls.ts";
import { setWinsize } from "../../kernel/pty.ts";
import { selfCommand as defaultSelf } from "../../self.ts";
import { EngineError } from "../errors.ts";
import { LineReader } from "./lines.ts";
import { processTable, systemCpuNs } from "./procfs.ts";
import { JOIN_CGROUP_ENV, parseStatus, SPEC_FD, STATUS_FD, type InitMessage } from "./protocol.ts";
import { spawnInPidNamespace, type Spawned } from "./spawn.ts";
import { WarmInit } from "./warm.ts";
import { nodeReadable, nodeWritable, ptyStreams } from "./streams.ts";
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
  joinPid?: number;
  onReady?: (pid: number) => Promise<void>;
  /** An init started ahead, already in the cgroup (warm.ts). */
  child?: Spawned | null;
}

const SIGNALS = constants.signals as Record<string, number>;

export class ExecDriver {
  private readonly cgroups: CgroupManager;
  private readonly initCommand: string[];
  private readonly initEnv: Record<string, string>;

  constructor(deps: ExecDriverDeps) {
    this.cgroups = deps.cgroups;
    this.initCommand = deps.initCommand ?? [...(deps.selfCommand ?? defaultSelf)(), "init"];
    this.initEnv = deps.initEnv ?? {};
    if (deps.warmInit) this.warm = new WarmInit((procs) => this.spawnInit("pipe", undefined, { [JOIN_CGROUP_ENV]: procs.join(":") }), this.cgroups);
  }

  private readonly warm: WarmInit | null = null;

  private spawnInit(io: "pipe" | "ignore", joinPid?: number, env: Record<string, string> = {}): Spawned {
    return spawnInPidNamespace(this.initCommand, [io, io, io, "pipe", "pipe"], joinPid, { ...this.initEnv, ...env });
  }

  /** Daemon shutdown: stops the init kept ahead and removes its cgroup. */
  async close(): Promise<void> {
    await this.warm?.close();
  }

  /** Creates the cgroup, starts the container's pid 1 and resolves once its command runs. */
  async start(spec: ContainerSpec, hooks: StartHooks = {}): Promise<RunningProcess> {
    // A terminal's init gets no stdio pipes; the one kept ahead has them, so it serves the others.
    const child = spec.process.terminal ? null : (this.warm?.take(spec.id) ?? null);
    this.cgroups.create(spec.id, { ...spec.cgroup, devices: spec.privileged ? "all" : "default" });
    try {
      const p = await this.launch({
        child,
        message: { kind: "start", spec, initCommand: this.initCommand, initEnv: this.initEnv },
        cgroupId: spec.id,
        terminal: spec.process.terminal,
        consoleSize: spec.process.consoleSize,
        onReady: hooks.onNetns,
      });
      // The kernel counts OOM kills per cgroup; read it once pid 1 is gone (Docker's State.OOMKilled).
      return { ...p, exited: p.exited.then((x) => ({ ...x, oomKilled: this.cgroups.oomKills(spec.id) > 0 })) };
    } catch (e) {
      await this.cgroups.remove(spec.id).catch(() => {});
      throw e;
    } finally {
      this.warm?.refill();
    }
  }

  /** Runs another process in a running container (`pid` is its pid 1 as the host sees it). */
  exec(id: string, pid: number, spec: ExecSpec): Promise<RunningProcess> {
    return this.launch({ message: { kind: "exec", pid, spec }, cgroupId: id, terminal: spec.terminal, consoleSize: spec.consoleSize, joinPid: pid });
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
  /** Kills leftovers and removes the container's cgroup. */
  cleanup(id: string): Promise<void> {
    return this.cgroups.remove(id);
  }

  private async launch(l: Launch): Promise<RunningProcess> {
    // A terminal's pty is opened by init inside the container; its stdio is unused until then.
    const io = l.terminal ? "ignore" : "pipe";
    const child = l.child ?? this.spawnInit(io, l.joinPid);
    const extra = child.stdio as unknown as number[];
    const toInit = extra[SPEC_FD]!;
    const fromInit = extra[STATUS_FD]!;
    let master: number | null = null;
    try {
      // Into the container's cgroup at once: the first migration of a multi-threaded
      // process waits for an RCU grace period (~5 ms), which now overlaps init's load.
      if (!l.child) this.cgroups.addProcess(l.cgroupId, child.pid);
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
    const exited: Promise<ExitStatus> = child.exited.then((code) => {
      const sig = child.signalCode ? (SIGNALS[child.signalCode] ?? null) : null;
      return { exitCode: sig ? 128 + sig : code, signal: sig, oomKilled: false };
    });
    const kill = (s: number | string) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(s as never);
    };
    if (master !== null) {
      const fd = master;
      const pty = ptyStreams(fd);
      return { pid: child.pid, stdin: pty.input, stdout: pty.output, stderr: null, exited, kill, resize: (r, c) => setWinsize(fd, r, c) };
    }
    return {
      pid: child.pid,
      stdin: nodeWritable(child.stdin),
      stdout: nodeReadable(child.stdout as ReadableStream<Uint8Array>),
      stderr: nodeReadable(child.stderr as ReadableStream<Uint8Array>),
      exited,
      kill,
    };
  }

  /** Answers init until its status pipe closes (= the command was exec'd). Returns the pty master if any. */
  private async handshake(child: Spawned, toInit: number, fromInit: number, l: Launch): Promise<number | null> {
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
      const code = await child.exited;
      throw new StartError(`container init exited before it was ready (status ${code ?? child.signalCode})`, 127);
    }
    return master;
  }
}
