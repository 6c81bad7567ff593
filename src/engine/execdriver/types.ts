// The exec driver's data model: what a container or an exec runs (as data,
// built by the containers layer) and what the driver hands back.
import type { Readable, Writable } from "node:stream";
import type { MountSpec } from "../../kernel/mount.ts";
import type { CgroupView, Resources } from "../../kernel/cgroups/types.ts";
import type { IdRange } from "../../kernel/userns.ts";

export type { MountSpec, Resources };

/** A mount performed inside the container; `destination` is resolved under the root without escaping it. */
export interface ContainerMount {
  destination: string;
  type: "bind" | "tmpfs";
  source: string;
  /** "ro", "rw", "rbind", "nosuid", "nodev", "noexec", and tmpfs data such as "size=64m", "mode=1777". */
  options: string[];
}

export interface ProcessSpec {
  args: string[];
  env: string[];
  cwd: string;
  /** "", "uid", "uid:gid", "name", "name:group" — names resolved in the container's /etc/passwd and /etc/group. */
  user: string;
  terminal: boolean;
  consoleSize?: { rows: number; cols: number };
  /** --group-add: supplementary groups on top of the user's. */
  groupAdd?: string[];
}

/** new = own namespace; host = the daemon's; join = setns into the given /proc/<pid>/ns/<type> path. */
export type NamespaceSpec = { mode: "new" } | { mode: "host" } | { mode: "join"; path: string };

/** What the container's /dev/shm is: its own tmpfs (bytes), a bind of a host directory, or nothing (IpcMode none). */
export type ShmSpec = { kind: "tmpfs"; size: number } | { kind: "bind"; source: string } | { kind: "none" };

export interface ContainerSpec {
  id: string;
  /** The root filesystem as the graph driver describes it (overlay, or a bind of a vfs copy). */
  rootfs: MountSpec;
  /** Where the rootfs is mounted — inside the container's mount namespace only. */
  rootfsPath: string;
  readonlyRootfs: boolean;
  hostname: string;
  domainname: string;
  process: ProcessSpec;
  /** The final capability list (caller applied --cap-add/--cap-drop/--privileged). */
  capabilities: string[];
  noNewPrivileges: boolean;
  /** What confines the command besides capabilities (confine.ts): seccomp, rlimits, AppArmor. */
  confinement?: Confinement;
  /** No masked/read-only paths, sysfs read-write, host devices. */
  privileged: boolean;
  mounts: ContainerMount[];
  network: NamespaceSpec;
  ipc?: NamespaceSpec;
  /** Default: a tmpfs of 64 MiB. */
  shm?: ShmSpec;
  uts?: NamespaceSpec;
  /** PidMode container:<id>: the init is spawned into the pid namespace of this host pid (not as its pid 1). */
  joinPid?: number;
  /** PidMode host: the init stays in the daemon's (the host's) pid namespace. */
  hostPid?: boolean;
  /** Written by init in the container's own namespaces before its command runs (keys checked by the engine). */
  sysctls?: Record<string, string>;
  /** /proc/<init>/oom_score_adj, inherited by the command (dockerd's OomScoreAdj). */
  oomScoreAdj?: number;
  /** Cgroup limits. */
  cgroup: Resources;
  /** HostConfig.CgroupParent: the container's cgroup goes below it, not below the daemon's parent. */
  cgroupParent?: string;
  /** What /sys/fs/cgroup shows (filled in by the driver from its cgroup manager; absent = nothing mounted). */
  cgroupView?: CgroupView;
  /** Run `ctr init`'s reaper as pid 1, the command as its child (docker run --init). */
  init: boolean;
  /** Defaults to Docker's lists (MASKED_PATHS / READONLY_PATHS). */
  maskedPaths?: string[];
  readonlyPaths?: string[];
  /** A user namespace of its own with these maps (--userns-remap, --userns=auto); absent = the host's. */
  userns?: UsernsSpec;
}

export interface UsernsSpec {
  uidMap: IdRange[];
  gidMap: IdRange[];
}

/** An exec runs a process as the container's runs (ProcessSpec; the container's --group-add applies too, as with runc). */
export interface ExecSpec extends ProcessSpec {
  capabilities: string[];
  noNewPrivileges: boolean;
  confinement?: Confinement;
  /** The container runs in a user namespace of its own: the exec joins it. */
  userns?: boolean;
}

/** A resource limit (setrlimit(2)); -1 = RLIM_INFINITY. */
export interface Rlimit {
  /** RLIMIT_* number (kernel/rlimits.ts). */
  resource: number;
  soft: number;
  hard: number;
}

export interface Confinement {
  /** A compiled seccomp program (base64 of struct sock_filter[]); absent = unconfined. */
  seccomp?: string;
  rlimits?: Rlimit[];
  /** An AppArmor profile the command is exec'd into. */
  apparmorProfile?: string;
}

export interface ExitStatus {
  /** 128+n when killed by signal n, as Docker reports it. */
  exitCode: number;
  signal: number | null;
  oomKilled: boolean;
}

/** A process the driver started: a container's pid 1 or an exec. */
export interface RunningProcess {
  /** Host pid. */
  pid: number;
  /** With a terminal: writes go to the pty master. */
  stdin: Writable | null;
  /** With a terminal: the pty master's output (stdout and stderr merged, as a tty does). */
  stdout: Readable | null;
  /** null with a terminal. */
  stderr: Readable | null;
  exited: Promise<ExitStatus>;
  kill(signal: number | string): void;
  /** Only with a terminal. */
  resize?(rows: number, cols: number): void;
  /** The output is already written to the container's log by the keeper (--live-restore). */
  logged?: boolean;
}

export interface StartHooks {
  /**
   * Called once the container's namespaces exist and it sits in its cgroup,
   * before its command runs: plug the network into /proc/<pid>/ns/net here.
   */
  onNetns?(pid: number): Promise<void>;
  /** With a keeper (--live-restore): where it logs the output while no daemon runs, and whether stdin stays open. */
  keep?: { log: { path: string; config: Record<string, string> }; openStdin: boolean; startedAt: string };
}

/** A `top` answer in Docker's shape. */
export interface ProcessTable {
  Titles: string[];
  Processes: string[][];
}
