// Docker's container shapes, as the Engine API carries them. Only the fields
// ctr acts on are typed strictly; the rest pass through untouched.
import type { Health, HealthConfig } from "./health.ts";

export interface ContainerConfig {
  Hostname: string;
  Domainname: string;
  User: string;
  AttachStdin: boolean;
  AttachStdout: boolean;
  AttachStderr: boolean;
  ExposedPorts?: Record<string, object> | null;
  Tty: boolean;
  OpenStdin: boolean;
  StdinOnce: boolean;
  Env: string[];
  Cmd: string[] | null;
  Image: string;
  Volumes?: Record<string, object> | null;
  WorkingDir: string;
  Entrypoint: string[] | null;
  OnBuild?: string[] | null;
  Labels: Record<string, string>;
  StopSignal?: string;
  StopTimeout?: number;
  Healthcheck?: HealthConfig;
  Shell?: string[];
  [k: string]: unknown;
}

export interface RestartPolicy {
  Name: "" | "no" | "always" | "unless-stopped" | "on-failure";
  MaximumRetryCount?: number;
}

/** The limits of container.Resources that ctr applies to a cgroup: set at create, changed by POST /containers/{id}/update. */
export interface ResourceLimits {
  Memory?: number;
  MemorySwap?: number;
  NanoCpus?: number;
  CpuShares?: number;
  CpuQuota?: number;
  CpuPeriod?: number;
  PidsLimit?: number | null;
}

export interface HostConfig extends ResourceLimits {
  Binds?: string[] | null;
  NetworkMode?: string;
  PortBindings?: Record<string, { HostIp?: string; HostPort?: string }[] | null> | null;
  RestartPolicy?: RestartPolicy;
  AutoRemove?: boolean;
  VolumesFrom?: string[] | null;
  CapAdd?: string[] | null;
  CapDrop?: string[] | null;
  Dns?: string[] | null;
  DnsOptions?: string[] | null;
  DnsSearch?: string[] | null;
  ExtraHosts?: string[] | null;
  Privileged?: boolean;
  PublishAllPorts?: boolean;
  ReadonlyRootfs?: boolean;
  Tmpfs?: Record<string, string> | null;
  Mounts?: { Type: string; Source?: string; Target: string; ReadOnly?: boolean; TmpfsOptions?: { SizeBytes?: number; Mode?: number } }[] | null;
  Init?: boolean | null;
  LogConfig?: { Type: string; Config: Record<string, string> };
  ConsoleSize?: [number, number];
  IpcMode?: string;
  PidMode?: string;
  UTSMode?: string;
  Sysctls?: Record<string, string> | null;
  OomScoreAdj?: number;
  CgroupParent?: string;
  /** Legacy links, stored as dockerd stores them: "/child:/parent/alias". */
  Links?: string[] | null;
  [k: string]: unknown;
}

/** What a client asks of one endpoint (EndpointSettings' request part); passed back as given. */
export interface EndpointConfig {
  IPAMConfig?: { IPv4Address?: string; IPv6Address?: string; LinkLocalIPs?: string[] | null } | null;
  Links?: string[] | null;
  Aliases?: string[] | null;
  DriverOpts?: Record<string, string> | null;
  MacAddress?: string;
  [k: string]: unknown;
}

export type ContainerStatus = "created" | "running" | "paused" | "restarting" | "removing" | "exited" | "dead";

export interface ContainerState {
  Status: ContainerStatus;
  Running: boolean;
  Paused: boolean;
  Restarting: boolean;
  OOMKilled: boolean;
  Dead: boolean;
  Pid: number;
  ExitCode: number;
  Error: string;
  StartedAt: string;
  FinishedAt: string;
  /** Only for a container with a healthcheck, once started. */
  Health?: Health;
}

export const ZERO_TIME = "0001-01-01T00:00:00Z";

export function initialState(): ContainerState {
  return {
    Status: "created",
    Running: false,
    Paused: false,
    Restarting: false,
    OOMKilled: false,
    Dead: false,
    Pid: 0,
    ExitCode: 0,
    Error: "",
    StartedAt: ZERO_TIME,
    FinishedAt: ZERO_TIME,
  };
}

/** A container as the store keeps it. */
export interface Container {
  id: string;
  name: string;
  imageId: string;
  imageRef: string;
  config: ContainerConfig;
  hostConfig: HostConfig;
  /**
   * The networks the container is configured on, by name, in connect order
   * (NetworkingConfig at create, then `network connect/disconnect`, also
   * while it is not running; dockerd's NetworkSettings.Networks minus addresses).
   */
  networking: { EndpointsConfig?: Record<string, EndpointConfig> };
  networkSettings: Record<string, unknown>;
  mounts: import("./mounts.ts").MountPoint[];
  state: ContainerState;
  restartCount: number;
  /** Stopped by a user (stop, kill, pause-less exit on request): `unless-stopped` stays down, also after a daemon restart. */
  manuallyStopped: boolean;
  created: string;
}

/** RFC 3339 with nanoseconds, like Go's time.Time JSON. */
export function nowRfc3339(): string {
  const d = new Date();
  const ns = process.hrtime.bigint() % 1_000_000n;
  return d.toISOString().replace(/\.(\d{3})Z$/, (_m, ms) => `.${ms}${ns.toString().padStart(6, "0")}Z`);
}
