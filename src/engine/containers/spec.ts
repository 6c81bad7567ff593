// From a Docker container record to what the exec driver runs: the process,
// its identity, capabilities, mounts and cgroup limits, as dockerd's
// daemon/oci_linux.go derives them.
import { join } from "node:path";
import type { ImageInfo, MountSpec } from "./ports.ts";
import type { Container } from "./types.ts";
import type { ContainerMount } from "./mounts.ts";
import type { ContainerSpec, NamespaceSpec, Resources, ShmSpec } from "../execdriver/types.ts";
import { InvalidParameterError } from "../errors.ts";
import { checkSysctls } from "./sysctls.ts";
import { containerConfinement, containerUserns, defaultSecurity, type SecurityDefaults } from "../security/policy.ts";

export const DEFAULT_CAPS = [
  "CAP_CHOWN",
  "CAP_DAC_OVERRIDE",
  "CAP_FSETID",
  "CAP_FOWNER",
  "CAP_MKNOD",
  "CAP_NET_RAW",
  "CAP_SETGID",
  "CAP_SETUID",
  "CAP_SETFCAP",
  "CAP_SETPCAP",
  "CAP_NET_BIND_SERVICE",
  "CAP_SYS_CHROOT",
  "CAP_KILL",
  "CAP_AUDIT_WRITE",
];

export const ALL_CAPS = [
  "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_SETGID",
  "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN",
  "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT",
  "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE",
  "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL",
  "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND",
  "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
];

function normCap(c: string): string {
  const u = c.toUpperCase();
  return u === "ALL" ? "ALL" : u.startsWith("CAP_") ? u : `CAP_${u}`;
}

/** Docker's TweakCapabilities: default set, then drops, then adds; "ALL" works both ways. */
export function resolveCaps(add: string[] = [], drop: string[] = [], privileged = false): string[] {
  if (privileged) return [...ALL_CAPS];
  const a = add.map(normCap);
  const d = drop.map(normCap);
  for (const c of [...a, ...d]) {
    if (c !== "ALL" && !ALL_CAPS.includes(c)) throw new InvalidParameterError(`unknown capability: "${c}"`);
  }
  let caps = d.includes("ALL") ? [] : DEFAULT_CAPS.filter((c) => !d.includes(c));
  if (a.includes("ALL")) caps = ALL_CAPS.filter((c) => !d.includes(c) || a.includes(c));
  for (const c of a) if (c !== "ALL" && !caps.includes(c)) caps.push(c);
  return caps;
}

/** The exec driver's own data model is what we build (one definition, in execdriver/types.ts). */
export type RunSpec = ContainerSpec;
export type NetworkSpec = NamespaceSpec;

export function cgroupResources(c: Container): Resources {
  const h = c.hostConfig;
  const r: Resources = {};
  if (h.Memory && h.Memory > 0) {
    r.memory = h.Memory;
    // Docker: swap unset means swap = memory (memsw = 2x); -1 unlimited.
    r.memorySwap = h.MemorySwap && h.MemorySwap !== 0 ? h.MemorySwap : h.Memory * 2;
  }
  if (h.NanoCpus && h.NanoCpus > 0) {
    r.cpuPeriod = 100_000;
    r.cpuQuota = Math.round((h.NanoCpus / 1e9) * 100_000);
  } else if (h.CpuQuota) {
    r.cpuQuota = h.CpuQuota;
    r.cpuPeriod = h.CpuPeriod || 100_000;
  }
  if (h.CpuShares) r.cpuShares = h.CpuShares;
  if (h.PidsLimit !== undefined && h.PidsLimit !== null && h.PidsLimit > 0) r.pidsLimit = h.PidsLimit;
  return r;
}

/** A Docker network mode turned into what the driver needs; `container:<id>` joins that container's netns. */
export function networkSpec(mode: string | undefined, pidOf: (ref: string) => number): NetworkSpec {
  if (mode === "host") return { mode: "host" };
  if (mode?.startsWith("container:")) return { mode: "join", path: `/proc/${pidOf(mode.slice("container:".length))}/ns/net` };
  return { mode: "new" };
}

/** IpcMode: host shares the daemon's, `container:<id>` joins that container's (its /dev/shm: ipc.ts); else a new one. */
export function ipcSpec(mode: string | undefined, pidOf: (ref: string) => number): NamespaceSpec {
  if (mode === "host") return { mode: "host" };
  if (mode?.startsWith("container:")) return { mode: "join", path: `/proc/${pidOf(mode.slice("container:".length))}/ns/ipc` };
  return { mode: "new" };
}

/** PidMode `container:<id>`: the host pid whose pid namespace the init joins. */
export function pidJoin(mode: string | undefined, pidOf: (ref: string) => number): number | undefined {
  return mode?.startsWith("container:") ? pidOf(mode.slice("container:".length)) : undefined;
}

export function buildRunSpec(
  c: Container,
  o: { rootfs: MountSpec; dir: string; image: ImageInfo; network: NetworkSpec; security?: SecurityDefaults; ipc?: NamespaceSpec; joinPid?: number; shm?: ShmSpec },
): RunSpec {
  const args = [...(c.config.Entrypoint ?? []), ...(c.config.Cmd ?? [])];
  const h = c.hostConfig;
  const [rows, cols] = h.ConsoleSize ?? [0, 0];
  const own: ContainerMount[] = [
    { destination: "/etc/hostname", type: "bind", source: join(o.dir, "hostname"), options: ["rbind", "rw"] },
    { destination: "/etc/hosts", type: "bind", source: join(o.dir, "hosts"), options: ["rbind", "rw"] },
    { destination: "/etc/resolv.conf", type: "bind", source: join(o.dir, "resolv.conf"), options: ["rbind", "rw"] },
  ];
  const user = userMounts(c);
  checkSysctls(h.Sysctls, { ipc: o.ipc?.mode !== "host", net: o.network.mode !== "host", uts: h.UTSMode !== "host" });
  const capabilities = resolveCaps(h.CapAdd ?? [], h.CapDrop ?? [], !!h.Privileged);
  const { noNewPrivileges, confinement } = containerConfinement(h, capabilities, o.security ?? defaultSecurity());
  const userns = containerUserns(c.id, h, o.security ?? defaultSecurity());
  return {
    id: c.id,
    rootfs: o.rootfs,
    rootfsPath: join(o.dir, "rootfs"),
    readonlyRootfs: !!h.ReadonlyRootfs,
    hostname: c.config.Hostname,
    domainname: c.config.Domainname ?? "",
    process: {
      args,
      env: c.config.Env.some((e) => e.startsWith("HOSTNAME=")) ? c.config.Env : [...c.config.Env, `HOSTNAME=${c.config.Hostname}`, ...(c.config.Tty ? ["TERM=xterm"] : [])],
      cwd: c.config.WorkingDir || "/",
      user: c.config.User ?? "",
      terminal: c.config.Tty,
      ...(rows && cols ? { consoleSize: { rows, cols } } : {}),
      ...processGroups(c),
    },
    capabilities,
    noNewPrivileges,
    confinement,
    privileged: !!h.Privileged,
    mounts: [...own, ...user],
    network: o.network,
    ...(o.ipc ? { ipc: o.ipc } : {}),
    ...(o.shm ? { shm: o.shm } : {}),
    // UTSMode host: the host's hostname (no sethostname); /etc/hostname still says Config.Hostname, as dockerd.
    ...(h.UTSMode === "host" ? { uts: { mode: "host" as const } } : {}),
    ...(o.joinPid ? { joinPid: o.joinPid } : {}),
    ...(h.PidMode === "host" ? { hostPid: true } : {}),
    ...(h.Sysctls && Object.keys(h.Sysctls).length ? { sysctls: h.Sysctls } : {}),
    ...(h.OomScoreAdj ? { oomScoreAdj: h.OomScoreAdj } : {}),
    cgroup: cgroupResources(c),
    ...(h.CgroupParent ? { cgroupParent: h.CgroupParent } : {}),
    init: !!h.Init,
    // An explicit list (even empty: --security-opt systempaths=unconfined) replaces Docker's defaults.
    ...(Array.isArray(h.MaskedPaths) ? { maskedPaths: h.MaskedPaths as string[] } : {}),
    ...(Array.isArray(h.ReadonlyPaths) ? { readonlyPaths: h.ReadonlyPaths as string[] } : {}),
    ...(userns ? { userns } : {}),
  };
}

/** The container's resolved MountPoints as mounts for the driver. */
function userMounts(c: Container): ContainerMount[] {
  return c.mounts.map((p) =>
    p.Type === "tmpfs"
      ? { destination: p.Destination, type: "tmpfs" as const, source: "tmpfs", options: ["nosuid", "nodev", ...(p.Mode ? p.Mode.split(",") : []), ...(p.RW ? [] : ["ro"])] }
      : { destination: p.Destination, type: "bind" as const, source: p.Source, options: ["rbind", p.RW ? "rw" : "ro"] },
  );
}

/** --group-add, for the container's command and its execs. */
export function processGroups(c: Container): { groupAdd?: string[] } {
  const g = (c.hostConfig.GroupAdd ?? []) as string[];
  return g.length ? { groupAdd: g.map(String) } : {};
}
