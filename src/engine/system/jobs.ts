import os from "node:os";
import { goArch } from "../../arch.ts";
import { readFileSync } from "node:fs";
import { handle, type Engine, type JobDef } from "../engine.ts";
import { API_VERSION, BUILD_TIME, GIT_COMMIT, MIN_API_VERSION, VERSION } from "../../version.ts";
import { InfoJob, JobsJob, PingJob, VersionJob, type VersionResult } from "./types.ts";

/** What `info` reports about the daemon; filled in by whoever starts it. */
export interface SystemFacts {
  id: string;
  rootDir: string;
  execRoot: string;
  driver: string;
  driverStatus: [string, string][];
  cgroupVersion: "1" | "2";
  insecureRegistries: string[];
  mirrors: string[];
  /** Live counters from the stores (containers by state, images). */
  counts(): { containers: number; running: number; paused: number; stopped: number; images: number };
  schemaVersion(): number;
  /** dockerd's Info.SecurityOptions (name=seccomp,profile=default …). */
  securityOptions: string[];
  /** --live-restore */
  liveRestore?: boolean;
}

export { goArch };

function versionOf(): VersionResult {
  const kernel = os.release();
  const details = {
    ApiVersion: API_VERSION,
    Arch: goArch(),
    BuildTime: BUILD_TIME,
    Experimental: "false",
    GitCommit: GIT_COMMIT,
    GoVersion: `bun${Bun.version}`,
    KernelVersion: kernel,
    MinAPIVersion: MIN_API_VERSION,
    Os: "linux",
  };
  return {
    Platform: { Name: "ctr" },
    Components: [{ Name: "Engine", Version: VERSION, Details: details }],
    Version: VERSION,
    ApiVersion: API_VERSION,
    MinAPIVersion: MIN_API_VERSION,
    GitCommit: GIT_COMMIT,
    GoVersion: `bun${Bun.version}`,
    Os: "linux",
    Arch: goArch(),
    KernelVersion: kernel,
    BuildTime: BUILD_TIME,
  };
}

function osName(): string {
  try {
    const m = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(readFileSync("/etc/os-release", "utf8"));
    return m?.[1] ?? "Linux";
  } catch {
    return "Linux";
  }
}

function infoOf(f: SystemFacts): Record<string, unknown> {
  const n = f.counts();
  return {
    ID: f.id,
    Containers: n.containers,
    ContainersRunning: n.running,
    ContainersPaused: n.paused,
    ContainersStopped: n.stopped,
    Images: n.images,
    Driver: f.driver,
    DriverStatus: f.driverStatus,
    Plugins: { Volume: ["local"], Network: ["bridge", "host", "null"], Authorization: null, Log: ["json-file"] },
    MemoryLimit: true,
    SwapLimit: true,
    CpuCfsPeriod: true,
    CpuCfsQuota: true,
    CPUShares: true,
    CPUSet: true,
    PidsLimit: true,
    IPv4Forwarding: true,
    Debug: false,
    NFd: 0,
    NGoroutines: 0,
    SystemTime: new Date().toISOString(),
    LoggingDriver: "json-file",
    CgroupDriver: "cgroupfs",
    CgroupVersion: f.cgroupVersion,
    NEventsListener: 0,
    KernelVersion: os.release(),
    OperatingSystem: osName(),
    OSVersion: "",
    OSType: "linux",
    Architecture: os.machine(),
    IndexServerAddress: "https://index.docker.io/v1/",
    RegistryConfig: {
      InsecureRegistryCIDRs: ["127.0.0.0/8", "::1/128"],
      IndexConfigs: Object.fromEntries(
        f.insecureRegistries.map((r) => [r, { Name: r, Mirrors: [], Secure: false, Official: false }]),
      ),
      Mirrors: f.mirrors,
    },
    NCPU: os.cpus().length,
    MemTotal: os.totalmem(),
    DockerRootDir: f.rootDir,
    HttpProxy: process.env.HTTP_PROXY ?? "",
    HttpsProxy: process.env.HTTPS_PROXY ?? "",
    NoProxy: process.env.NO_PROXY ?? "",
    Name: os.hostname(),
    Labels: [],
    ExperimentalBuild: false,
    ServerVersion: VERSION,
    Runtimes: { ctr: { path: "ctr init" } },
    DefaultRuntime: "ctr",
    Swarm: { NodeID: "", NodeAddr: "", LocalNodeState: "inactive", ControlAvailable: false, Error: "", RemoteManagers: null },
    LiveRestoreEnabled: !!f.liveRestore,
    Isolation: "",
    InitBinary: "ctr init",
    ContainerdCommit: { ID: "" },
    RuncCommit: { ID: "" },
    InitCommit: { ID: "" },
    SecurityOptions: f.securityOptions,
    Warnings: [],
    // ctr's own additions
    CtrExecRoot: f.execRoot,
    CtrSchemaVersion: f.schemaVersion(),
  };
}

export function systemJobs(facts: SystemFacts, engine: Engine): JobDef<any, any>[] {
  return [
    handle(PingJob, () => {}),
    handle(VersionJob, () => versionOf()),
    handle(InfoJob, () => infoOf(facts)),
    handle(JobsJob, (_ctx, { all }) => engine.jobs({ all })),
  ];
}
