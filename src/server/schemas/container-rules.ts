// dockerd's checks of a create body, in dockerd's order, with dockerd's words
// (moby 20.10 daemon/container.go verifyContainerSettings and daemon_unix.go
// verifyPlatformContainerSettings; messages taken from Debian's dockerd by the
// differential test test/differential/validation.test.ts). A rule answers the
// message of the first thing wrong, or undefined.
import { isIP } from "node:net";
import { availableParallelism } from "node:os";
import { ALL_CAPS } from "../../engine/containers/spec.ts";
import { parseSignal } from "../../engine/containers/signals.ts";
import type { ContainerCreateBody, HostConfigBody } from "./container.ts";

type Rule<T> = (x: T) => string | undefined;
type Resources = HostConfigBody;

const MIN_MEMORY = 6 * 1024 * 1024;
const MS = 1_000_000; // time.Millisecond in the nanoseconds Healthcheck carries
const isAbs = (p: string) => p.startsWith("/");
const first = <T>(list: T[] | undefined, f: (x: T) => string | undefined): string | undefined => {
  for (const x of list ?? []) {
    const m = f(x);
    if (m !== undefined) return m;
  }
  return undefined;
};

export function validSignal(s: string): boolean {
  try {
    parseSignal(s);
    return true;
  } catch {
    return false;
  }
}

// ---- Config ----------------------------------------------------------------

/** ctr refuses an exposed port that is not a uint16 (dockerd 20.10 stores it; the docker CLI then cannot list it). */
const exposedPorts: Rule<ContainerCreateBody> = (c) =>
  first(Object.keys(c.ExposedPorts ?? {}), (k) => {
    const port = k.split("/")[0]!;
    return parsePortRange(port) && port !== "" ? undefined : `invalid port specification: "${port}"`;
  });

const workingDir: Rule<ContainerCreateBody> = (c) =>
  c.WorkingDir && !isAbs(c.WorkingDir) ? `the working directory '${c.WorkingDir}' is invalid, it needs to be an absolute path` : undefined;

const stopSignal: Rule<ContainerCreateBody> = (c) => (c.StopSignal && !validSignal(c.StopSignal) ? `Invalid signal: ${c.StopSignal}` : undefined);

/** opts.ValidateEnv: a name is required before `=`. */
const env: Rule<ContainerCreateBody> = (c) => first(c.Env, (e) => (e.split("=")[0] === "" ? `invalid environment variable: ${e}` : undefined));

const healthcheck: Rule<ContainerCreateBody> = ({ Healthcheck: h }) => {
  if (!h) return undefined;
  const under = (v: number | undefined, what: string) => (v !== undefined && v !== 0 && v < MS ? `${what} in Healthcheck cannot be less than 1ms` : undefined);
  return (
    under(h.Interval, "Interval") ??
    under(h.Timeout, "Timeout") ??
    (h.Retries !== undefined && h.Retries < 0 ? "Retries in Healthcheck cannot be negative" : undefined) ??
    under(h.StartPeriod, "StartPeriod") ??
    under(h.StartInterval, "StartInterval")
  );
};

// ---- HostConfig ------------------------------------------------------------

const autoRemove: Rule<HostConfigBody> = (h) =>
  h.AutoRemove && h.RestartPolicy?.Name && h.RestartPolicy.Name !== "no" ? "can't create 'AutoRemove' container with restart policy" : undefined;

/** go-connections nat.ParsePort: empty, or a decimal of at most 16 bits. */
function parsePort(s: string): boolean {
  return s === "" || (/^\d+$/.test(s) && Number(s) <= 65535);
}

/** nat.ParsePortRange on the part before a `/proto`: `N` or `N-M`, empty allowed (a random host port). */
function parsePortRange(s: string): boolean {
  const port = s.split("/")[0]!;
  if (port === "") return true;
  const [a, b, ...rest] = port.split("-");
  if (rest.length) return false;
  if (b === undefined) return /^\d+$/.test(a!) && Number(a) <= 65535;
  return /^\d+$/.test(a!) && /^\d+$/.test(b) && Number(a) <= 65535 && Number(b) <= 65535 && Number(b) >= Number(a);
}

const PROTOCOLS = ["tcp", "udp", "sctp"];

const portBindings: Rule<HostConfigBody> = (h) => {
  for (const [key, bindings] of Object.entries(h.PortBindings ?? {})) {
    const [port = "", proto] = key.split("/");
    if (!parsePort(port)) return `invalid port specification: "${port}"`;
    // dockerd stores an unknown protocol and fails at start; refuse it here (intended difference).
    if (proto !== undefined && !PROTOCOLS.includes(proto)) return `invalid port specification: "${key}"`;
    for (const b of bindings ?? []) {
      if (!parsePortRange(b.HostPort ?? "")) return `invalid port specification: "${b.HostPort}"`;
      // dockerd stores a bad HostIp and fails at start; refuse it here (intended difference).
      if (b.HostIp && !isIP(b.HostIp)) return `invalid IP address: ${b.HostIp}`;
    }
  }
  return undefined;
};

const restartPolicy: Rule<HostConfigBody> = ({ RestartPolicy: p }) => {
  if (!p) return undefined;
  const name = p.Name ?? "";
  const retries = p.MaximumRetryCount ?? 0;
  if (["always", "unless-stopped", "no"].includes(name)) {
    return retries !== 0 ? `maximum retry count cannot be used with restart policy '${name}'` : undefined;
  }
  if (name === "on-failure") return retries < 0 ? "maximum retry count cannot be negative" : undefined;
  return name === "" ? undefined : `invalid restart policy '${name}'`;
};

const MOUNT_TYPES = ["bind", "volume", "tmpfs", "npipe"];

/** volume/mounts ValidateMountConfig (the parts that need no filesystem; the engine checks bind sources). */
const mounts: Rule<HostConfigBody> = (h) =>
  first(h.Mounts, (m) => {
    const type = m.Type ?? "";
    const bad = (why: string) => `invalid mount config for type "${type}": ${why}`;
    if (!MOUNT_TYPES.includes(type)) return bad("mount type unknown");
    if (!m.Target) return bad("field Target must not be empty");
    if (!isAbs(m.Target)) return bad(`invalid mount path: '${m.Target}' mount path must be absolute`);
    if (type === "bind" && !m.Source) return bad("field Source must not be empty");
    if (type === "tmpfs" && m.Source) return bad("field Source must not be specified");
    return undefined;
  });

const tmpfs: Rule<HostConfigBody> = (h) =>
  first(Object.keys(h.Tmpfs ?? {}), (dst) => (isAbs(dst) ? undefined : `invalid mount path: '${dst}' mount path must be absolute`));

const networkMode: Rule<HostConfigBody> = (h) =>
  h.NetworkMode === "container:" ? "Invalid network mode: invalid container format container:<name|id>" : undefined;

/** opts.ValidateExtraHost: `name:ip` (the ip may be `host-gateway`). */
const extraHosts: Rule<HostConfigBody> = (h) =>
  first(h.ExtraHosts, (e) => {
    const i = e.indexOf(":");
    if (i <= 0) return `bad format for add-host: "${e}"`;
    const ip = e.slice(i + 1).replace(/^\[(.*)\]$/, "$1");
    return ip === "host-gateway" || isIP(ip) ? undefined : `invalid IP address in add-host: "${e.slice(i + 1)}"`;
  });

/** parsers.ParseUintList: `0-3,5`. */
function uintList(s: string): boolean {
  return s.split(",").every((part) => {
    const [a, b, ...rest] = part.split("-");
    if (rest.length || !/^\d+$/.test(a!)) return false;
    return b === undefined || (/^\d+$/.test(b) && Number(b) >= Number(a));
  });
}

const resources: Rule<Resources> = (r) => {
  const mem = r.Memory ?? 0;
  const swap = r.MemorySwap ?? 0;
  const reservation = r.MemoryReservation ?? 0;
  if (mem !== 0 && mem < MIN_MEMORY) return "Minimum memory limit allowed is 6MB";
  if (mem > 0 && swap > 0 && swap < mem) return "Minimum memoryswap limit should be larger than memory limit, see usage";
  const sw = r.MemorySwappiness;
  if (sw !== undefined && sw !== -1 && (sw < 0 || sw > 100)) return `Invalid value: ${sw}, valid memory swappiness range is 0-100`;
  if (reservation !== 0 && reservation < MIN_MEMORY) return "Minimum memory reservation allowed is 6MB";
  if (mem > 0 && reservation > 0 && mem < reservation) return "Minimum memory limit can not be less than memory reservation limit, see usage";
  if ((r.KernelMemory ?? 0) !== 0 && (r.KernelMemory ?? 0) < MIN_MEMORY) return "Minimum kernel memory limit allowed is 6MB";
  const nano = r.NanoCpus ?? 0;
  if (nano > 0 && (r.CpuPeriod ?? 0) > 0) return "Conflicting options: Nano CPUs and CPU Period cannot both be set";
  if (nano > 0 && (r.CpuQuota ?? 0) > 0) return "Conflicting options: Nano CPUs and CPU Quota cannot both be set";
  const cpus = availableParallelism();
  if (nano < 0 || nano > cpus * 1e9) return `Range of CPUs is from 0.01 to ${cpus}.00, as there are only ${cpus} CPUs available`;
  const period = r.CpuPeriod ?? 0;
  if (period !== 0 && (period < 1000 || period > 1_000_000)) return "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)";
  const quota = r.CpuQuota ?? 0;
  if (quota > 0 && quota < 1000) return "CPU cfs quota can not be less than 1ms (i.e. 1000)";
  if (r.CpusetCpus && !uintList(r.CpusetCpus)) return `Invalid value ${r.CpusetCpus} for cpuset cpus: invalid format: ${r.CpusetCpus}`;
  if (r.CpusetMems && !uintList(r.CpusetMems)) return `Invalid value ${r.CpusetMems} for cpuset mems: invalid format: ${r.CpusetMems}`;
  return undefined;
};

const oomScoreAdj: Rule<HostConfigBody> = (h) =>
  h.OomScoreAdj !== undefined && (h.OomScoreAdj < -1000 || h.OomScoreAdj > 1000)
    ? `Invalid value ${h.OomScoreAdj}, range for oom score adj is [-1000, 1000]`
    : undefined;

const shmSize: Rule<HostConfigBody> = (h) => ((h.ShmSize ?? 0) < 0 ? "SHM size can not be less than 0" : undefined);

const cgroupns: Rule<HostConfigBody> = (h) =>
  h.CgroupnsMode && !["private", "host"].includes(h.CgroupnsMode) ? `invalid cgroup namespace mode: ${h.CgroupnsMode}` : undefined;

const isolation: Rule<HostConfigBody> = (h) =>
  h.Isolation && h.Isolation !== "default" ? `Invalid isolation: "${h.Isolation}" - linux only supports 'default'` : undefined;

/** caps.NormalizeLegacyCapabilities: case-insensitive, CAP_ optional, ALL allowed. */
function capsRule(field: "CapAdd" | "CapDrop"): Rule<HostConfigBody> {
  return (h) =>
    first(h[field], (c) => {
      const u = c.toUpperCase();
      if (u === "ALL") return undefined;
      const name = u.startsWith("CAP_") ? u : `CAP_${u}`;
      return ALL_CAPS.includes(name) ? undefined : `invalid ${field}: unknown capability: "${name}"`;
    });
}

/** parseSecurityOpt: `key=value` or `key:value`, or the lone `no-new-privileges`. */
const securityOpt: Rule<HostConfigBody> = (h) => {
  const opts = h.SecurityOpt ?? [];
  for (let i = 0; i < opts.length; i++) {
    const o = opts[i]!;
    if (o === "no-new-privileges" || o.includes("=") || o.includes(":")) continue;
    return `invalid --security-opt ${i + 1}: "${o}"`;
  }
  return undefined;
};

/** dockerd's built-in log drivers; any other name is looked up as a plugin, which ctr has none of. */
const LOG_DRIVERS = ["none", "local", "json-file", "syslog", "journald", "gelf", "fluentd", "awslogs", "splunk", "etwlogs", "gcplogs", "logentries"];

const JSON_FILE_OPTS = ["max-file", "max-size", "compress", "labels", "labels-regex", "env", "env-regex", "tag", "mode", "max-buffer-size"];

const logConfig: Rule<HostConfigBody> = ({ LogConfig: l }) => {
  if (l?.Type && !LOG_DRIVERS.includes(l.Type)) return `error looking up logging plugin ${l.Type}: plugin "${l.Type}" not found`;
  if (!l || (l.Type && l.Type !== "json-file")) return undefined;
  return first(Object.keys(l.Config ?? {}), (k) => (JSON_FILE_OPTS.includes(k) ? undefined : `unknown log opt '${k}' for json-file log driver`));
};

const hostConfigRules: Rule<HostConfigBody>[] = [
  autoRemove,
  portBindings,
  restartPolicy,
  mounts,
  tmpfs,
  networkMode,
  extraHosts,
  resources,
  oomScoreAdj,
  shmSize,
  cgroupns,
  isolation,
  capsRule("CapAdd"),
  capsRule("CapDrop"),
  securityOpt,
  logConfig,
];

// ---- NetworkingConfig ------------------------------------------------------

const endpointAddresses: Rule<ContainerCreateBody> = (c) =>
  first(Object.values(c.NetworkingConfig?.EndpointsConfig ?? {}), (e) => {
    const ip = e?.IPAMConfig;
    if (ip?.IPv4Address && isIP(ip.IPv4Address) !== 4) return `invalid IPv4 address: ${ip.IPv4Address}`;
    if (ip?.IPv6Address && isIP(ip.IPv6Address) !== 6) return `invalid IPv6 address: ${ip.IPv6Address}`;
    return undefined;
  });

/** runconfig's validateUTSMode: the host's UTS namespace has the host's name. */
const utsHostname: Rule<ContainerCreateBody> = (c) =>
  c.HostConfig?.UTSMode === "host" && c.Hostname ? "conflicting options: hostname and the UTS mode" : undefined;

const onHostConfig: Rule<ContainerCreateBody> = (c) => (c.HostConfig ? first(hostConfigRules, (r) => r(c.HostConfig!)) : undefined);

export const createRules: Rule<ContainerCreateBody>[] = [utsHostname, exposedPorts, workingDir, stopSignal, env, healthcheck, onHostConfig, endpointAddresses];
export { hostConfigRules, resources as resourceRule };
