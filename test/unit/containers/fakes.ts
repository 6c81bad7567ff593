// Fakes for the container lifecycle's seams: no kernel, no registry.
import { scratchDir } from "../../helpers/tmp.ts";
import { PassThrough } from "node:stream";
import { join } from "node:path";
import { openDatabase } from "../../../src/store/db.ts";
import { ContainerStore } from "../../../src/engine/containers/store.ts";
import { ContainerService, type EventSink } from "../../../src/engine/containers/service.ts";
import type { ExitInfo, ImageInfo, LogDriver, LogEntry, Networking, ProcessHandle, Runtime } from "../../../src/engine/containers/ports.ts";
import type { Container } from "../../../src/engine/containers/types.ts";

export class FakeProcess implements ProcessHandle {
  static nextPid = 1000;
  pid = FakeProcess.nextPid++;
  stdin = new PassThrough();
  stdout = new PassThrough();
  stderr = new PassThrough();
  signals: (number | string)[] = [];
  private resolveExit!: (e: ExitInfo) => void;
  exited = new Promise<ExitInfo>((r) => (this.resolveExit = r));
  /** Set to make the process die on SIGTERM (else only SIGKILL ends it). */
  diesOnTerm = true;
  stdinData: Buffer[] = [];

  constructor() {
    this.stdin.on("data", (d: Buffer) => this.stdinData.push(d));
  }
  exit(code: number, signal: number | null = null, oomKilled = false): void {
    this.stdout.end();
    this.stderr.end();
    this.resolveExit({ exitCode: code, signal, oomKilled });
  }
  kill(sig: number | string): void {
    this.signals.push(sig);
    if (sig === 9 || (sig === 15 && this.diesOnTerm)) this.exit(128 + Number(sig), Number(sig));
  }
}

/** `restore`: what the runtime still holds of a container a previous daemon started (live restore). */
export function fakeWorld(o: { restore?: Runtime["restore"]; liveRestore?: boolean } = {}) {
  const dir = scratchDir("ctr-svc-");
  const db = openDatabase(join(dir, "ctr.db"));
  const store = new ContainerStore(db);
  const procs: FakeProcess[] = [];
  const updates: Container["hostConfig"][] = [];
  const events: { Action: string; id: string }[] = [];
  const logs = new Map<string, LogEntry[]>();
  /** Starts and cgroup cleanups, in the order they happened. */
  const order: string[] = [];
  const image: ImageInfo = { id: "sha256:" + "a".repeat(64), config: { Cmd: ["sh"], Env: ["PATH=/bin", "A=1"], WorkingDir: "/" }, topLayer: "sha256:top" };
  const runtime: Runtime = {
    start: async (c, ctx) => {
      order.push(`start ${c.id}`);
      const p = new FakeProcess();
      await ctx.onNetns?.(p.pid);
      procs.push(p);
      return p;
    },
    exec: async () => {
      const p = new FakeProcess();
      procs.push(p);
      return p;
    },
    update: async (c) => {
      updates.push(c.hostConfig);
    },
    pause: async () => {},
    resume: async () => {},
    stats: async () => ({ cpuTotal: 0, cpuPercpu: [], systemCpu: 0, onlineCpus: 1, memoryUsage: 0, memoryLimit: 0, memoryStats: {}, pids: 1, blkioRead: 0, blkioWrite: 0 }),
    top: async () => ({ Titles: ["PID"], Processes: [] }),
    // Slow, like rmdir in every v1 hierarchy: a start that does not wait for it comes first.
    cleanup: async (c) => {
      await Bun.sleep(5);
      order.push(`cleanup ${c.id}`);
    },
    ...(o.restore ? { restore: o.restore } : {}),
    leftovers: () => [],
  };
  const network: Networking = {
    connect: async () => ({ Networks: { bridge: { IPAddress: "10.9.0.2" } } }),
    disconnect: async () => {},
    settings: () => ({ Networks: { bridge: { IPAddress: "10.9.0.2" } } }),
    files: () => ({ hosts: "127.0.0.1 localhost\n", resolvConf: "" }),
    needsNetns: () => true,
  };
  const logDriver: LogDriver = {
    open: (path) => ({
      write: (stream, chunk) => {
        const l = logs.get(path) ?? [];
        l.push({ stream, time: new Date().toISOString(), log: Buffer.from(chunk).toString() });
        logs.set(path, l);
      },
      close: () => {},
    }),
    read: async function* (path) {
      for (const e of logs.get(path) ?? []) yield e;
    },
  };
  const sink: EventSink = { publish: (e) => events.push({ Action: e.Action, id: e.Actor.ID }) };
  const rootfsMade: string[] = [];
  const svc = new ContainerService({
    store,
    images: { find: (ref) => (ref === "busybox" || ref === image.id ? image : null), get: () => image },
    rootfs: {
      create: async (id) => {
        rootfsMade.push(id);
        return { type: "bind", source: "/tmp", options: [] };
      },
      mount: () => ({ type: "bind", source: "/tmp", options: [] }),
      remove: async (id) => {
        rootfsMade.splice(rootfsMade.indexOf(id), 1);
      },
    },
    runtime,
    network,
    events: sink,
    logs: logDriver,
    dir: join(dir, "containers"),
    liveRestore: o.liveRestore,
  });
  return { svc, store, procs, events, rootfsMade, dir, db, updates, order };
}

export type { Container };
