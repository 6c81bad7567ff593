// What the container lifecycle needs from the parts below it. The daemon
// wires the real image store, layer store, exec driver and network manager
// in; unit tests pass fakes.
import type { Readable, Writable } from "node:stream";
import type { HealthConfig } from "./health.ts";
import type { ShmSpec } from "../execdriver/types.ts";

/** The OCI image config's `config` section (what create merges with the request). */
export interface ImageRunConfig {
  User?: string;
  ExposedPorts?: Record<string, object>;
  Env?: string[];
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  Volumes?: Record<string, object>;
  WorkingDir?: string;
  Labels?: Record<string, string> | null;
  StopSignal?: string;
  Healthcheck?: HealthConfig;
  Shell?: string[];
}

export interface ImageInfo {
  id: string;
  /** The reference it was found by, normalised (docker.io/library/busybox:latest). */
  config: ImageRunConfig;
  topLayer: string | null;
}

export interface ImageSource {
  /** Finds an image by reference, id or id prefix; null when absent. */
  find(ref: string): ImageInfo | null;
  get(id: string): ImageInfo | null;
}

/** A mount as data (from the graph driver), performed by the kernel layer. */
export type { MountSpec } from "../../kernel/mount.ts";
import type { MountSpec } from "../../kernel/mount.ts";

export interface RootfsProvider {
  /** Creates the container's rw layer on top of the image's top layer; returns the rootfs mount. */
  create(containerId: string, topLayer: string | null): Promise<MountSpec>;
  /**
   * `volatile`: the layer goes with the container (--rm), so nothing needs syncing; `mountpoints`: the
   * runtime's mount targets come from a shared layer under the rw one (both graphdriver RwMountOptions).
   */
  mount(containerId: string, o?: { volatile?: boolean; mountpoints?: boolean }): MountSpec;
  remove(containerId: string): Promise<void>;
  /** Moves the rw layer out of its place at once; the returned call deletes it (later, off the answer). */
  setAside?(containerId: string): () => Promise<void>;
  /** Bytes in the container's rw layer (SizeRw); absent in fakes that do not track it. */
  size?(containerId: string): Promise<number>;
}

export interface ExitInfo {
  exitCode: number;
  signal: number | null;
  oomKilled: boolean;
  /** When it ended, if that was before the daemon learnt of it (it ended while no daemon ran). */
  finishedAt?: string;
}

/** A process the exec driver started: the container's first process or an exec. */
export interface ProcessHandle {
  pid: number;
  stdin: Writable | null;
  stdout: Readable | null;
  stderr: Readable | null;
  exited: Promise<ExitInfo>;
  kill(signal: number | string): void;
  resize?(rows: number, cols: number): void;
  /** The runtime writes the log itself (the keeper, with --live-restore): the lifecycle only relays. */
  logged?: boolean;
}

/** An exec instance's settings (POST /containers/{id}/exec). */
export interface ExecConfig {
  Cmd: string[];
  Env?: string[] | null;
  User?: string;
  WorkingDir?: string;
  Tty?: boolean;
  Privileged?: boolean;
  AttachStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  ConsoleSize?: [number, number] | null;
  DetachKeys?: string;
}

export interface ContainerStats {
  cpuTotal: number;
  cpuPercpu: number[];
  systemCpu: number;
  onlineCpus: number;
  memoryUsage: number;
  memoryLimit: number;
  memoryStats: Record<string, number>;
  pids: number;
  blkioRead: number;
  blkioWrite: number;
}

/** The exec driver as the lifecycle sees it: containers in, processes out. */
export interface Runtime {
  start(
    c: import("./types.ts").Container,
    ctx: {
      rootfs: MountSpec;
      dir: string;
      image: ImageInfo;
      onNetns?: (pid: number) => Promise<void>;
      log: { path: string; config: Record<string, string> };
      /** /dev/shm as the IpcMode says (ipc.ts). */
      shm?: ShmSpec;
    },
  ): Promise<ProcessHandle>;
  /**
   * --live-restore: a container a previous daemon left running, as the
   * runtime still holds it (or how it ended meanwhile); null when it holds
   * nothing of it. Absent without live restore.
   */
  restore?(c: import("./types.ts").Container): ProcessHandle | null;
  exec(c: import("./types.ts").Container, pid: number, e: ExecConfig): Promise<ProcessHandle>;
  /** Applies the container's HostConfig limits to its running cgroup. */
  update(c: import("./types.ts").Container): Promise<void>;
  pause(c: import("./types.ts").Container): Promise<void>;
  resume(c: import("./types.ts").Container): Promise<void>;
  stats(c: import("./types.ts").Container): Promise<ContainerStats>;
  top(c: import("./types.ts").Container, psArgs: string): Promise<{ Titles: string[]; Processes: string[][] }>;
  /** Removes what the runtime keeps for a stopped container (cgroup). */
  cleanup(c: import("./types.ts").Container): Promise<void>;
  /** Host pids in the container's cgroup that no handle of ours holds (after a daemon restart: left by the last one). */
  leftovers(c: import("./types.ts").Container): number[];
}

/** Networking as the lifecycle sees it. */
export interface Networking {
  /** Called once the container's netns exists, before its command runs. Returns NetworkSettings. */
  connect(c: import("./types.ts").Container, pid: number): Promise<Record<string, unknown>>;
  disconnect(c: import("./types.ts").Container): Promise<void>;
  /** NetworkSettings as they are now (after `network connect/disconnect` on a running container). */
  settings(c: import("./types.ts").Container, pid: number): Record<string, unknown>;
  /** Content of /etc/hosts and /etc/resolv.conf for the container; `linkHosts`: the lines of its legacy links. */
  files(c: import("./types.ts").Container, linkHosts?: readonly string[]): { hosts: string; resolvConf: string };
  /** Whether the container gets its own network namespace we must plug. */
  needsNetns(c: import("./types.ts").Container): boolean;
  /** At start, after reconcile: drops what a crashed daemon left for containers other than `running` (netns pins). */
  sweep?(running: string[]): void;
}

/** Where a container's output is kept (json-file by default). */
export interface LogSink {
  write(stream: "stdout" | "stderr", chunk: Uint8Array): void;
  close(): void;
}

/**
 * One stored line, as json-file keeps it: `log` is the text (UTF-8 decoded when
 * written). The reader hands on the parsed object itself, no copy: a log read goes
 * through hundreds of thousands of these.
 */
export interface LogEntry {
  stream: "stdout" | "stderr";
  time: string;
  log: string;
}

export interface LogDriver {
  open(path: string, config: Record<string, string>): LogSink;
  read(
    path: string,
    o: { stdout: boolean; stderr: boolean; tail?: number; since?: number; until?: number; follow: boolean; signal?: AbortSignal; stopped?: Promise<void> },
  ): AsyncIterable<LogEntry>;
}
