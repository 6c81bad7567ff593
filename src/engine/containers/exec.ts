import { randomBytes } from "node:crypto";
import { ConflictError, EngineError, InvalidParameterError, NotFoundError } from "../errors.ts";
import { parseDetachKeys } from "./detach-keys.ts";
import type { Readable } from "node:stream";
import { timeoutOutput } from "./health.ts";
import type { ProbeOutcome } from "./health-monitor.ts";
import type { ExecConfig, ProcessHandle } from "./ports.ts";
import type { ContainerService } from "./service.ts";
import type { Container } from "./types.ts";

interface ExecInstance {
  id: string;
  containerId: string;
  config: ExecConfig;
  running: boolean;
  exitCode: number | null;
  pid: number;
  proc?: ProcessHandle;
  started: boolean;
}

export interface StartedExec {
  proc: ProcessHandle;
  /** Resolves with the exit code once it is recorded (inspect then shows it). */
  done: Promise<number>;
}

/** `docker exec`: instances created, then started once, then inspected for their exit code. */
export class ExecService {
  private readonly byId = new Map<string, ExecInstance>();

  constructor(private readonly containers: ContainerService) {}

  create(ref: string, config: ExecConfig): { Id: string } {
    if (!Array.isArray(config.Cmd) || config.Cmd.length === 0 || config.Cmd.some((a) => typeof a !== "string")) {
      throw new InvalidParameterError("No exec command specified");
    }
    const { c } = this.containers.process(ref);
    // dockerd checks the keys at create and answers a bad spec with a 500 in these words.
    if (config.DetachKeys && !parseDetachKeys(config.DetachKeys)) throw new EngineError(`Invalid escape keys (${config.DetachKeys}) provided`);
    const id = randomBytes(32).toString("hex");
    this.byId.set(id, { id, containerId: c.id, config, running: false, exitCode: null, pid: 0, started: false });
    this.event(c, `exec_create: ${config.Cmd.join(" ")}`, { execID: id });
    this.gc();
    return { Id: id };
  }

  async start(id: string): Promise<StartedExec> {
    const e = this.get(id);
    if (e.started) throw new ConflictError(`exec ${id} has already been started`);
    const { c, pid } = this.containers.process(e.containerId);
    e.started = true;
    let proc: ProcessHandle;
    try {
      proc = await this.containers.d.runtime.exec(this.containers.linked(c), pid, e.config);
    } catch (err) {
      // Like dockerd 20.10, an exec whose command cannot start (not found, not executable)
      // ends with 126 whatever the reason, which `docker exec` then exits with (a container's
      // first process that cannot start is 127 or 126, but an exec's failure is always 126).
      e.exitCode = 126;
      throw err;
    }
    e.proc = proc;
    e.pid = proc.pid;
    e.running = true;
    this.event(c, `exec_start: ${e.config.Cmd.join(" ")}`, { execID: id });
    const done = proc.exited.then((x) => {
      e.running = false;
      e.exitCode = x.exitCode;
      this.event(c, "exec_die", { execID: id, exitCode: String(x.exitCode) });
      return x.exitCode;
    });
    return { proc, done };
  }

  /**
   * A healthcheck probe: an exec like any other (events included, as dockerd's),
   * run to its end with stdout and stderr collected in the order written. One
   * that cannot start or outlives `timeoutMs` (then killed) reports -1, as dockerd.
   */
  async probe(ref: string, argv: string[], timeoutMs: number): Promise<ProbeOutcome> {
    const { Id } = this.create(ref, { Cmd: argv, AttachStdout: true, AttachStderr: true });
    let started: StartedExec;
    try {
      started = await this.start(Id);
    } catch (e) {
      return { exitCode: -1, output: (e as Error).message };
    }
    const { proc, done } = started;
    proc.stdin?.end();
    const chunks: Buffer[] = [];
    const collect = async (s: Readable | null) => {
      if (!s) return;
      for await (const b of s) chunks.push(Buffer.from(b as Uint8Array));
    };
    const finished = Promise.all([collect(proc.stdout), collect(proc.stderr), done]).then(([, , code]) => code);
    let timer: Timer | undefined;
    const timedOut = new Promise<null>((r) => (timer = setTimeout(() => r(null), timeoutMs)));
    const code = await Promise.race([finished, timedOut]);
    clearTimeout(timer);
    if (code === null) {
      proc.kill(9);
      return { exitCode: -1, output: timeoutOutput(timeoutMs) };
    }
    return { exitCode: code, output: Buffer.concat(chunks).toString() };
  }

  resize(id: string, rows: number, cols: number): void {
    const e = this.get(id);
    if (!e.running || !e.proc) throw new ConflictError(`cannot resize a stopped exec: ${id}`);
    e.proc.resize?.(rows, cols);
  }

  inspect(id: string) {
    const e = this.get(id);
    const [entrypoint, ...args] = e.config.Cmd;
    return {
      ID: e.id,
      Running: e.running,
      ExitCode: e.exitCode,
      ProcessConfig: { tty: !!e.config.Tty, entrypoint, arguments: args, privileged: !!e.config.Privileged, ...(e.config.User ? { user: e.config.User } : {}) },
      OpenStdin: !!e.config.AttachStdin,
      OpenStderr: !!e.config.AttachStderr,
      OpenStdout: !!e.config.AttachStdout,
      CanRemove: false,
      ContainerID: e.containerId,
      DetachKeys: e.config.DetachKeys ?? "",
      Pid: e.pid,
    };
  }

  idsFor(containerId: string): string[] {
    return [...this.byId.values()].filter((e) => e.containerId === containerId).map((e) => e.id);
  }

  /** dockerd's exec events: container events whose Action names the command (`exec_create: sh -c …`). */
  private event(c: Container, action: string, extra: Record<string, string>): void {
    this.containers.d.events.publish({
      Type: "container",
      Action: action,
      Actor: { ID: c.id, Attributes: { ...c.config.Labels, image: c.imageRef, name: c.name, ...extra } },
    });
  }

  private get(id: string): ExecInstance {
    const e = this.byId.get(id);
    if (!e) throw new NotFoundError(`No such exec instance: ${id}`);
    return e;
  }

  /** Ended execs are kept a while for inspect; bounded so a busy daemon does not grow. */
  private gc(): void {
    if (this.byId.size <= 500) return;
    for (const [id, e] of this.byId) {
      if (this.byId.size <= 400) break;
      if (e.started && !e.running) this.byId.delete(id);
    }
  }
}
