// The daemon's side of the keeper (keeper.ts): finds the keeper of its exec
// root or starts one, has it re-execute when it runs another build (the
// in-place upgrade), spawns inits through it, and turns what it forwards into
// the streams and exit promises of an InitChild.
import { closeSync, mkdirSync, openSync, readFileSync, rmSync } from "node:fs";
import { constants } from "node:os";
import { PassThrough, Writable } from "node:stream";
import { close as closeFd, pidfdGetfd, pidfdOpen } from "../../kernel/syscalls.ts";
import { controlFrame, dataFrame, FrameReader, FrameWriter } from "./keeper-wire.ts";
import { keeperPaths, scriptHash, type ExitRecord, type FromKeeper, type KeptChild, type ToKeeper } from "./keeper-protocol.ts";
import type { InitChild, KeepInfo, Keeper } from "./init-child.ts";
import type { ExitStatus } from "./types.ts";

export interface KeeperLaunch {
  /** `ctr init` argv prefix and env (init-bundle.ts), for the inits the keeper spawns. */
  initCommand: string[];
  initEnv: Record<string, string>;
  /** The keeper's argv prefix (init-bundle.ts keeperCommand); the exec root is appended. */
  keeperCommand: string[];
  execRoot: string;
  /** Where the keeper is started: its own cgroup (so stopping the daemon's service does not kill it). */
  placeKeeper?(pid: number): void;
  log?(msg: string, fields?: Record<string, unknown>): void;
}

interface Proc {
  stdout: PassThrough;
  stderr: PassThrough;
  exited: Promise<ExitStatus>;
  resolveExit(s: ExitStatus): void;
  done: boolean;
}

type State = Extract<FromKeeper, { op: "state" }>;

const CONNECT_DEADLINE_MS = 10_000;

export class KeeperClient implements Keeper {
  private writer!: FrameWriter;
  private socket: { end(): void } | null = null;
  private readonly waiting = new Map<number, (m: FromKeeper) => void>();
  private stateWaiter: ((s: State) => void) | null = null;
  private closedWaiter: (() => void) | null = null;
  private readonly procs = new Map<number, Proc>();
  private seq = 0;
  private closing = false;
  /** What the keeper said at hello: its pid and the containers it holds. */
  state!: State;

  private constructor(private readonly o: KeeperLaunch) {}

  /** Connects to the exec root's keeper (starting one if none answers), upgrading it to this build. */
  static async open(o: KeeperLaunch): Promise<KeeperClient> {
    const k = new KeeperClient(o);
    mkdirSync(o.execRoot, { recursive: true, mode: 0o700 });
    if (!(await k.connect())) {
      k.startKeeper();
      await k.connectWithin(CONNECT_DEADLINE_MS);
    }
    k.state = await k.hello();
    if (!k.sameBuild(k.state)) {
      o.log?.("keeper runs another build: re-executing it in place", { pid: k.state.pid, from: k.state.execPath, to: process.execPath });
      const gone = new Promise<void>((r) => (k.closedWaiter = r));
      k.send({ op: "upgrade", argv: k.keeperArgv(), env: o.initEnv });
      await gone;
      await k.connectWithin(CONNECT_DEADLINE_MS);
      k.state = await k.hello();
    }
    return k;
  }

  private keeperArgv(): string[] {
    return [...this.o.keeperCommand, this.o.execRoot];
  }

  /** The same binary and init script as ours: argv[0] may be spelt differently, the rest must match. */
  private sameBuild(s: State): boolean {
    const want = this.keeperArgv();
    return s.execPath === process.execPath && JSON.stringify(s.argv.slice(1)) === JSON.stringify(want.slice(1)) && s.build === scriptHash(want[1]);
  }

  private startKeeper(): void {
    const paths = keeperPaths(this.o.execRoot);
    const log = openSync(paths.log, "a");
    try {
      const p = Bun.spawn(this.keeperArgv(), { stdio: ["ignore", log, log], env: this.o.initEnv, cwd: "/" });
      p.unref();
      this.o.placeKeeper?.(p.pid);
    } finally {
      closeSync(log);
    }
  }

  private async connectWithin(ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    while (!(await this.connect())) {
      if (Date.now() > deadline) throw new Error(`the keeper of ${this.o.execRoot} does not answer (see ${keeperPaths(this.o.execRoot).log})`);
      await Bun.sleep(5);
    }
  }

  private async connect(): Promise<boolean> {
    const reader = new FrameReader({ control: (m) => this.onControl(m as FromKeeper), data: (pid, st, d) => this.onData(pid, st, d) });
    try {
      const s = await Bun.connect({
        unix: keeperPaths(this.o.execRoot).socket,
        socket: {
          data: (_s, chunk) => reader.push(chunk),
          drain: () => this.writer.drain(),
          close: () => this.onClose(),
          error: () => {},
        },
      });
      this.writer = new FrameWriter(s);
      this.socket = s;
      return true;
    } catch {
      return false;
    }
  }

  private hello(): Promise<State> {
    const p = new Promise<State>((r) => (this.stateWaiter = r));
    this.send({ op: "hello" });
    return p;
  }

  private send(m: ToKeeper): void {
    this.writer.send(controlFrame(m));
  }

  private onControl(m: FromKeeper): void {
    switch (m.op) {
      case "state":
        this.stateWaiter?.(m);
        this.stateWaiter = null;
        return;
      case "spawned":
      case "failed":
        this.waiting.get(m.seq)?.(m);
        this.waiting.delete(m.seq);
        return;
      case "eof": {
        const p = this.procs.get(m.pid);
        (m.stream === 1 ? p?.stdout : p?.stderr)?.end();
        return;
      }
      case "exit": {
        const p = this.procs.get(m.pid);
        if (!p) return;
        p.stdout.end();
        p.stderr.end();
        p.done = true;
        p.resolveExit({ exitCode: m.exitCode, signal: m.signal, oomKilled: false });
        this.procs.delete(m.pid);
      }
    }
  }

  private onData(pid: number, stream: number, data: Uint8Array): void {
    const p = this.procs.get(pid);
    if (!p) return;
    (stream === 2 ? p.stderr : p.stdout).write(data);
  }

  private onClose(): void {
    this.socket = null;
    if (this.closedWaiter) {
      this.closedWaiter();
      this.closedWaiter = null;
      return;
    }
    if (this.closing) return;
    // The keeper itself died: its containers lost their reaper and their stdio.
    // Nothing can supervise them now; end them as a crash would (137), not leave them loose.
    this.o.log?.("the keeper exited: killing the containers it held", { count: this.procs.size });
    for (const [pid, p] of this.procs) {
      try {
        process.kill(pid, 9);
      } catch {}
      p.stdout.end();
      p.stderr.end();
      p.resolveExit({ exitCode: 137, signal: 9, oomKilled: false });
    }
    this.procs.clear();
  }

  /** Starts an init (in a new pid namespace) as the keeper's child. */
  async spawn(io: "pipe" | "ignore", env: Record<string, string>, hostPid = false): Promise<InitChild> {
    if (!this.socket) throw new Error("the keeper is not connected");
    const seq = ++this.seq;
    const answer = new Promise<FromKeeper>((r) => this.waiting.set(seq, r));
    this.send({ op: "spawn", seq, argv: this.o.initCommand, env: { ...this.o.initEnv, ...env }, io, ...(hostPid ? { hostPid } : {}) });
    const m = await answer;
    if (m.op !== "spawned") throw new Error(`keeper: ${m.op === "failed" ? m.message : "unexpected answer"}`);
    const pidfd = pidfdOpen(this.state.pid);
    let toInit = -1;
    let fromInit = -1;
    try {
      toInit = pidfdGetfd(pidfd, m.spec);
      fromInit = pidfdGetfd(pidfd, m.status);
    } catch (e) {
      if (toInit >= 0) closeFd(toInit);
      this.send({ op: "kill", pid: m.pid, signal: 9 });
      throw e;
    } finally {
      closeFd(pidfd);
      this.send({ op: "taken", pid: m.pid });
    }
    return this.child(m.pid, toInit, fromInit, io === "pipe");
  }

  /** A container the keeper held when this daemon started. */
  adopt(id: string, pid: number): InitChild | null {
    const held = this.state.children.some((c: KeptChild) => c.id === id && c.pid === pid);
    // Resizes of an adopted terminal go to the keeper, which holds its master.
    return held ? this.child(pid, -1, -1, true) : null;
  }

  private child(pid: number, toInit: number, fromInit: number, pipes: boolean): InitChild {
    let resolveExit!: (s: ExitStatus) => void;
    const exited = new Promise<ExitStatus>((r) => (resolveExit = r));
    const p: Proc = { stdout: new PassThrough(), stderr: new PassThrough(), exited, resolveExit, done: false };
    this.procs.set(pid, p);
    const stdin = new Writable({
      write: (chunk: Buffer, _enc, cb) => {
        if (!p.done && this.socket) this.writer.send(dataFrame(pid, 0, chunk));
        cb();
      },
      final: (cb) => {
        if (!p.done && this.socket) this.send({ op: "stdin-end", pid });
        cb();
      },
    });
    return {
      pid,
      toInit,
      fromInit,
      // Without pipes (a terminal) input goes to the master the keeper holds.
      stdin,
      stdout: p.stdout,
      stderr: pipes ? p.stderr : null,
      exited,
      running: () => !p.done,
      kill: (s) => {
        if (!p.done && this.socket) this.send({ op: "kill", pid, signal: signalNumber(s) });
      },
      logged: true,
      keep: (info: KeepInfo) => this.send({ op: "register", pid, id: info.id, log: info.log, openStdin: info.openStdin, startedAt: info.startedAt }),
      // The keeper takes its own copy (pidfd_getfd) and reads and writes the terminal from then on.
      lendPty: (master) => this.send({ op: "pty", pid, from: process.pid, fd: master }),
      resize: (rows, cols) => {
        if (!p.done && this.socket) this.send({ op: "resize", pid, rows, cols });
      },
    };
  }

  /** The exit the keeper recorded for a container that ended while no daemon ran (or before it was told). */
  recordedExit(id: string): ExitRecord | null {
    try {
      return JSON.parse(readFileSync(keeperPaths(this.o.execRoot).exit(id), "utf8")) as ExitRecord;
    } catch {
      return null;
    }
  }

  forgetExit(id: string): void {
    rmSync(keeperPaths(this.o.execRoot).exit(id), { force: true });
  }

  /** Daemon shutdown: the keeper goes on alone (and draws the output into the logs). */
  close(): void {
    this.closing = true;
    this.socket?.end();
  }
}

function signalNumber(s: number | string): number {
  if (typeof s === "number") return s;
  const n = (constants.signals as Record<string, number>)[s];
  if (n === undefined) throw new Error(`unknown signal ${s}`);
  return n;
}
