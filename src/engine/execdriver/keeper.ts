// The keeper (`ctr keeper <exec root>`, or its own small bundle, keeper-entry.ts):
// with --live-restore, ONE small process per
// exec root that holds what a container's life must not share with the
// daemon's. It is the parent of every container's pid 1 (it spawns them, in
// new pid namespaces, exactly as the daemon would), so it reaps them and
// records their real exit status in <exec root>/exits/<id>.json; it owns
// their stdio pipes (and pty masters), so a writer never gets EPIPE, and it
// writes their json-file log, so output has no gap while no daemon runs. The
// daemon talks to it over <exec root>/keeper.sock (keeper-wire.ts frames):
// spawns, output, stdin, signals. A newer binary takes it over in place with
// `upgrade`: the keeper writes its table to keeper.state, keeps its fds across
// execve(2) and re-executes; a process keeps its children across execve, and
// the new image reaps them with waitid(P_PID) (its runtime does not know them).
// It exits once no daemon is connected and no container is left.
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync, write, read, existsSync } from "node:fs";
import { constants } from "node:os";
import { clearCloexec, pipe, reapChild, setNonblock } from "../../kernel/fds.ts";
import { setWinsize } from "../../kernel/pty.ts";
import { close as closeFd, execve, pidfdGetfd, pidfdOpen, setCloexec, setsid } from "../../kernel/syscalls.ts";
import { JsonFileLogger, parseLogOpts, DEFAULT_LOG_OPTIONS } from "../logs/json-file.ts";
import { nowRfc3339 } from "../containers/types.ts";
import { controlFrame, dataFrame, FrameReader, FrameWriter, type WireStream } from "./keeper-wire.ts";
import { keeperPaths, scriptHash, type ExitRecord, type FromKeeper, type KeptChild, type KeptLog, type ToKeeper } from "./keeper-protocol.ts";
import { spawnInPidNamespace, type Spawned } from "./spawn.ts";

/** After its pid 1 is reaped, how long output may still drain before the exit is recorded (as the daemon's onExit). */
const DRAIN_AFTER_EXIT_MS = 2000;
/** Output queued for a daemon that does not read, beyond which it is only logged. */
const MAX_PENDING_BYTES = 16 * 1024 * 1024;
/** How long a fresh keeper with nothing to keep waits for its daemon. */
const CONNECT_GRACE_MS = 10_000;
const SIGNALS = constants.signals as Record<string, number>;

interface Kept {
  pid: number;
  id: string | null;
  startedAt: string;
  /** null for a child inherited across a re-exec (reaped with waitid, see onSigchld). */
  child: Spawned | null;
  /** Our copies of the handshake pipes, until the daemon has taken its own. */
  spec: number | null;
  status: number | null;
  stdin: number | null;
  stdout: number | null;
  stderr: number | null;
  pty: number | null;
  log: KeptLog | null;
  logger: JsonFileLogger | null;
  readers: { cancel(): void }[];
  /** Output streams not at EOF yet. */
  open: number;
  exit: { code: number; signal: number | null } | null;
  stdinChain: Promise<void>;
  done: boolean;
}

/** A kept child as keeper.state carries it across execve. */
interface Handed {
  pid: number;
  id: string;
  startedAt: string;
  log: KeptLog;
  stdin: number | null;
  stdout: number | null;
  stderr: number | null;
  pty: number | null;
  exit: { code: number; signal: number | null } | null;
}

class Keeper {
  private readonly kept = new Map<number, Kept>();
  private conn: { writer: FrameWriter; socket: { end(): void } } | null = null;
  private server: { stop(closeActive?: boolean): void } | null = null;
  private readonly paths: ReturnType<typeof keeperPaths>;
  /** Hashed at start: the daemon may rewrite the script file while we run the old one. */
  private readonly build = scriptHash(process.argv[1]);

  constructor(private readonly execRoot: string) {
    this.paths = keeperPaths(execRoot);
  }

  start(): void {
    mkdirSync(this.paths.exits, { recursive: true, mode: 0o700 });
    this.takeHandOver();
    process.on("SIGCHLD", () => this.onSigchld());
    this.onSigchld();
    rmSync(this.paths.socket, { force: true });
    this.server = Bun.listen<{ reader: FrameReader; writer: FrameWriter }>({
      unix: this.paths.socket,
      socket: {
        open: (s) => {
          const writer = new FrameWriter(s);
          s.data = { writer, reader: new FrameReader({ control: (m) => this.onControl(m as ToKeeper), data: (pid, st, d) => this.onStdin(pid, st, d) }) };
          // One daemon at a time (it holds the root's flock); a new one means the old is gone.
          if (this.conn) this.disconnected();
          this.conn = { writer, socket: s };
        },
        data: (s, chunk) => s.data.reader.push(chunk),
        drain: (s) => s.data.writer.drain(),
        close: (s) => {
          if (this.conn?.writer === s.data?.writer) this.disconnected();
        },
        error: () => {},
      },
    });
    // Started for a daemon that is about to connect; alone and empty after that, it leaves.
    setTimeout(() => this.maybeQuit(), CONNECT_GRACE_MS);
  }

  private send(msg: FromKeeper): void {
    this.conn?.writer.send(controlFrame(msg));
  }

  private onControl(m: ToKeeper): void {
    try {
      switch (m.op) {
        case "hello":
          return this.send({ op: "state", pid: process.pid, argv: process.argv, execPath: process.execPath, build: this.build, children: this.registered() });
        case "spawn":
          return this.spawn(m.seq, m.argv, m.env, m.io, !!m.hostPid);
        case "taken":
          return this.dropHandshake(this.kept.get(m.pid));
        case "register":
          return this.register(m);
        case "pty":
          return this.takePty(m.pid, m.from, m.fd);
        case "stdin-end":
          return this.endStdin(this.kept.get(m.pid));
        case "resize": {
          const pty = this.kept.get(m.pid)?.pty;
          if (pty !== null && pty !== undefined) setWinsize(pty, m.rows, m.cols);
          return;
        }
        case "kill": {
          const k = this.kept.get(m.pid);
          if (k && !k.exit) process.kill(m.pid, m.signal);
          return;
        }
        case "upgrade":
          return this.upgrade(m.argv, m.env);
      }
    } catch (e) {
      console.error(`ctr keeper: ${m.op}: ${(e as Error).message}`);
    }
  }

  private registered(): KeptChild[] {
    return [...this.kept.values()].filter((k) => k.id && !k.done).map((k) => ({ pid: k.pid, id: k.id!, startedAt: k.startedAt }));
  }

  // ---- spawning ----------------------------------------------------------

  private spawn(seq: number, argv: string[], env: Record<string, string>, io: "pipe" | "ignore", hostPid = false): void {
    const spec = pipe();
    const status = pipe();
    const std = io === "pipe" ? [pipe(), pipe(), pipe()] : null;
    const theirs = [spec.read, status.write, ...(std ? [std[0]!.read, std[1]!.write, std[2]!.write] : [])];
    let child: Spawned;
    try {
      const stdio = std ? [std[0]!.read, std[1]!.write, std[2]!.write] : ["ignore", "ignore", "ignore"];
      child = spawnInPidNamespace(argv, [...(stdio as (number | "ignore")[]), spec.read, status.write], hostPid ? "host" : undefined, env);
    } catch (e) {
      for (const fd of [spec.write, status.read, ...(std ? [std[0]!.write, std[1]!.read, std[2]!.read] : [])]) closeFd(fd);
      return this.send({ op: "failed", seq, message: (e as Error).message });
    } finally {
      for (const fd of theirs) closeFd(fd);
    }
    // The daemon reads the status pipe on its event loop; the container's end stays blocking.
    setNonblock(status.read);
    const k = this.track(child.pid, child, { stdin: std?.[0]!.write ?? null, stdout: std?.[1]!.read ?? null, stderr: std?.[2]!.read ?? null, pty: null });
    k.spec = spec.write;
    k.status = status.read;
    void child.exited.then((code) => {
      const sig = child.signalCode ? (SIGNALS[child.signalCode] ?? null) : null;
      this.onReaped(k, { code: sig ? 128 + sig : (code ?? 0), signal: sig });
    });
    this.send({ op: "spawned", seq, pid: child.pid, spec: spec.write, status: status.read });
  }

  private track(pid: number, child: Spawned | null, fds: Pick<Kept, "stdin" | "stdout" | "stderr" | "pty">): Kept {
    const k: Kept = { pid, id: null, startedAt: "", child, spec: null, status: null, ...fds, log: null, logger: null, readers: [], open: 0, exit: null, stdinChain: Promise.resolve(), done: false };
    this.kept.set(pid, k);
    if (k.stdout !== null) this.readPipe(k, k.stdout, 1);
    if (k.stderr !== null) this.readPipe(k, k.stderr, 2);
    if (k.pty !== null) this.readPty(k, k.pty);
    return k;
  }

  private dropHandshake(k: Kept | undefined): void {
    if (!k) return;
    if (k.spec !== null) closeFd(k.spec);
    if (k.status !== null) closeFd(k.status);
    k.spec = k.status = null;
  }

  private register(m: Extract<ToKeeper, { op: "register" }>): void {
    const k = this.kept.get(m.pid);
    if (!k) return;
    k.id = m.id;
    k.startedAt = m.startedAt;
    k.log = m.log;
    k.logger = openLogger(m.log);
    if (!m.openStdin) this.endStdin(k);
  }

  private takePty(pid: number, from: number, fd: number): void {
    const k = this.kept.get(pid);
    if (!k) return;
    const pidfd = pidfdOpen(from);
    try {
      k.pty = pidfdGetfd(pidfd, fd);
    } finally {
      closeFd(pidfd);
    }
    this.readPty(k, k.pty);
  }

  // ---- output, input -------------------------------------------------------

  private readPipe(k: Kept, fd: number, stream: 1 | 2): void {
    k.open++;
    const reader = Bun.file(fd).stream().getReader();
    let cancelled = false;
    k.readers.push({
      cancel: () => {
        cancelled = true;
        void reader.cancel().catch(() => {});
      },
    });
    void (async () => {
      for (;;) {
        const r = await reader.read().catch(() => ({ done: true as const, value: undefined }));
        if (cancelled) return;
        if (r.done || !r.value) break;
        this.output(k, stream, r.value);
      }
      this.streamEnded(k, stream);
    })();
  }

  /** A pty master reads EIO once the last slave is closed: that is its EOF. */
  private readPty(k: Kept, fd: number): void {
    k.open++;
    let cancelled = false;
    k.readers.push({ cancel: () => (cancelled = true) });
    const pump = () => {
      const b = Buffer.alloc(16384);
      read(fd, b, 0, b.length, null, (err, n) => {
        if (cancelled) return;
        if (err || n === 0) return this.streamEnded(k, 1);
        this.output(k, 1, b.subarray(0, n));
        pump();
      });
    };
    pump();
  }

  private output(k: Kept, stream: 1 | 2, chunk: Uint8Array): void {
    k.logger?.write(stream === 1 ? "stdout" : "stderr", chunk);
    // A daemon that stops reading must not grow us without bound: the log has it all, attach loses the excess.
    if (this.conn && this.conn.writer.pendingBytes < MAX_PENDING_BYTES) this.conn.writer.send(dataFrame(k.pid, stream, chunk));
  }

  private streamEnded(k: Kept, stream: 1 | 2): void {
    this.send({ op: "eof", pid: k.pid, stream });
    k.open--;
    if (k.open === 0 && k.exit) this.finish(k);
  }

  private onStdin(pid: number, _stream: WireStream, data: Uint8Array): void {
    const k = this.kept.get(pid);
    const fd = k?.stdin ?? k?.pty ?? null;
    if (!k || fd === null) return;
    // Writes in order, off the event loop (a container that does not read its stdin must not block us).
    k.stdinChain = k.stdinChain.then(() => new Promise<void>((resolve) => write(fd, data, () => resolve())));
  }

  private endStdin(k: Kept | undefined): void {
    if (!k || k.stdin === null) return;
    const fd = k.stdin;
    k.stdin = null;
    k.stdinChain = k.stdinChain.then(() => closeFd(fd));
  }

  // ---- exits -----------------------------------------------------------------

  private onSigchld(): void {
    for (const k of this.kept.values()) {
      if (k.child || k.exit) continue;
      const st = reapChild(k.pid);
      if (st) this.onReaped(k, st);
    }
  }

  private onReaped(k: Kept, st: { code: number; signal: number | null }): void {
    if (k.exit) return;
    k.exit = st;
    this.dropHandshake(k);
    if (k.open === 0) return this.finish(k);
    // pid 1 gone: the kernel kills the rest of its namespace, so the pipes close; do not wait forever.
    setTimeout(() => this.finish(k), DRAIN_AFTER_EXIT_MS).unref?.();
  }

  /** Output drained (or given up on): log closed, exit recorded, then the daemon told. */
  private finish(k: Kept): void {
    if (k.done || !k.exit) return;
    k.done = true;
    for (const r of k.readers) r.cancel();
    k.logger?.close();
    if (k.id) {
      const rec: ExitRecord = { id: k.id, pid: k.pid, exitCode: k.exit.code, signal: k.exit.signal, finishedAt: nowRfc3339() };
      const path = this.paths.exit(k.id);
      writeFileSync(`${path}.tmp`, JSON.stringify(rec));
      renameSync(`${path}.tmp`, path);
    }
    this.send({ op: "exit", pid: k.pid, exitCode: k.exit.code, signal: k.exit.signal });
    void k.stdinChain.then(() => {
      for (const fd of [k.stdin, k.stdout, k.stderr, k.pty]) if (fd !== null) closeFd(fd);
    });
    this.kept.delete(k.pid);
    this.maybeQuit();
  }

  private disconnected(): void {
    this.conn = null;
    // Never registered: an init kept ahead, or a start the daemon did not finish.
    for (const k of this.kept.values()) {
      if (k.id) continue;
      this.dropHandshake(k);
      try {
        process.kill(k.pid, 9);
      } catch {}
    }
    this.maybeQuit();
  }

  private maybeQuit(): void {
    if (this.conn || this.kept.size) return;
    this.server?.stop(true);
    rmSync(this.paths.socket, { force: true });
    process.exit(0);
  }

  // ---- upgrade in place --------------------------------------------------------

  private upgrade(argv: string[], env: Record<string, string>): void {
    const handed: Handed[] = [];
    for (const k of this.kept.values()) {
      for (const r of k.readers) r.cancel();
      if (!k.id) {
        try {
          process.kill(k.pid, 9);
        } catch {}
        continue;
      }
      k.logger?.close();
      for (const fd of [k.stdin, k.stdout, k.stderr, k.pty]) if (fd !== null) clearCloexec(fd);
      handed.push({ pid: k.pid, id: k.id, startedAt: k.startedAt, log: k.log!, stdin: k.stdin, stdout: k.stdout, stderr: k.stderr, pty: k.pty, exit: k.exit });
    }
    writeFileSync(`${this.paths.state}.tmp`, JSON.stringify(handed));
    renameSync(`${this.paths.state}.tmp`, this.paths.state);
    this.server?.stop(true);
    rmSync(this.paths.socket, { force: true });
    console.error(`ctr keeper ${process.pid}: re-executing ${argv.join(" ")} with ${handed.length} containers`);
    try {
      execve(argv[0]!, argv, Object.entries(env).map(([k, v]) => `${k}=${v}`));
    } catch (e) {
      // The new binary would not run: the state is written, so our own image takes it back instead.
      console.error(`ctr keeper: ${(e as Error).message}; re-executing the running build`);
      execve(process.execPath, process.argv, Object.entries(process.env).map(([k, v]) => `${k}=${v}`));
    }
  }

  /** After a re-exec: the previous image's children, pipes and logs. */
  private takeHandOver(): void {
    if (!existsSync(this.paths.state)) return;
    const handed = JSON.parse(readFileSync(this.paths.state, "utf8")) as Handed[];
    rmSync(this.paths.state, { force: true });
    for (const h of handed) {
      // Close-on-exec again: a container started from now on must not inherit another's pipes.
      for (const fd of [h.stdin, h.stdout, h.stderr, h.pty]) if (fd !== null) setCloexec(fd);
      const k = this.track(h.pid, null, { stdin: h.stdin, stdout: h.stdout, stderr: h.stderr, pty: h.pty });
      k.id = h.id;
      k.startedAt = h.startedAt;
      k.log = h.log;
      k.logger = openLogger(h.log);
      if (h.exit) this.onReaped(k, h.exit);
    }
  }
}

function openLogger(log: KeptLog): JsonFileLogger {
  try {
    return new JsonFileLogger(log.path, parseLogOpts(log.config));
  } catch {
    return new JsonFileLogger(log.path, DEFAULT_LOG_OPTIONS);
  }
}

export async function keeperMain(execRoot: string): Promise<never> {
  // Its own session: a terminal's ^C or hang-up aimed at the daemon never reaches it.
  try {
    setsid();
  } catch {}
  // Everything a container's life hangs on is here: a bug in one handler is logged, not fatal to all of them.
  process.on("uncaughtException", (e) => console.error(`ctr keeper: ${e.stack ?? e}`));
  process.on("unhandledRejection", (e) => console.error(`ctr keeper: ${(e as Error)?.stack ?? e}`));
  new Keeper(execRoot).start();
  return new Promise<never>(() => {});
}
