import { readText } from "./read-text.ts";
import type { OptionSpec } from "./argv.ts";
import { list } from "./context.ts";
import { parseBytes, parseDuration } from "../units.ts";
import { parsePublish, type PortBindings } from "../engine/network/publish.ts";
import { securityOptFlags, ulimitFlags, usernsFlag } from "./security-flags.ts";

export { parseBytes };

/** Options shared by `ctr run` and `ctr create` (docker's names). */
export const createOptions: OptionSpec[] = [
  { flags: "--name <name>", description: "Assign a name to the container" },
  { flags: "-i, --interactive", description: "Keep STDIN open even if not attached" },
  { flags: "-t, --tty", description: "Allocate a pseudo-TTY" },
  { flags: "-e, --env <var>", description: "Set environment variables (repeatable)" },
  { flags: "--env-file <file>", description: "Read in a file of environment variables" },
  { flags: "-w, --workdir <dir>", description: "Working directory inside the container" },
  { flags: "-u, --user <user>", description: "Username or UID (format: <name|uid>[:<group|gid>])" },
  { flags: "--entrypoint <cmd>", description: "Overwrite the default ENTRYPOINT of the image" },
  { flags: "--hostname <name>", description: "Container host name" },
  { flags: "-m, --memory <bytes>", description: "Memory limit (e.g. 64m)" },
  { flags: "--memory-swap <bytes>", description: "Swap limit equal to memory plus swap: -1 for unlimited" },
  { flags: "--cpus <n>", description: "Number of CPUs" },
  { flags: "--cpu-shares <n>", description: "CPU shares (relative weight)" },
  { flags: "--pids-limit <n>", description: "Tune container pids limit (-1 for unlimited)" },
  { flags: "--read-only", description: "Mount the container's root filesystem as read only" },
  { flags: "--cap-add <cap>", description: "Add Linux capabilities (repeatable)" },
  { flags: "--cap-drop <cap>", description: "Drop Linux capabilities (repeatable)" },
  { flags: "--privileged", description: "Give extended privileges to this container" },
  { flags: "--security-opt <opt>", description: "Security options: seccomp=<profile.json>|unconfined, no-new-privileges[=bool], apparmor=, label=" },
  { flags: "--ulimit <name=soft[:hard]>", description: "Ulimit options (repeatable)" },
  { flags: "--userns <mode>", description: "User namespace to use (host, or auto: a range of its own)" },
  { flags: "--init", description: "Run an init inside the container that forwards signals and reaps processes" },
  { flags: "--restart <policy>", description: "Restart policy: no, on-failure[:N], always, unless-stopped" },
  { flags: "--stop-signal <sig>", description: "Signal to stop the container" },
  { flags: "--stop-timeout <s>", description: "Timeout (in seconds) to stop a container" },
  { flags: "-l, --label <kv>", description: "Set meta data on a container (repeatable)" },
  { flags: "-p, --publish <spec>", description: "Publish a container's port(s) to the host (repeatable)" },
  { flags: "-P, --publish-all", description: "Publish all exposed ports to random ports" },
  { flags: "--expose <port>", description: "Expose a port or a range of ports" },
  { flags: "--network <mode>", description: "Connect a container to a network (bridge, host, none, container:<id>, <name>)" },
  { flags: "--network-alias <alias>", description: "Add network-scoped alias for the container" },
  { flags: "--ip <addr>", description: "IPv4 address" },
  { flags: "--dns <ip>", description: "Set custom DNS servers" },
  { flags: "--add-host <host:ip>", description: "Add a custom host-to-IP mapping" },
  { flags: "-v, --volume <spec>", description: "Bind mount a volume (repeatable)" },
  { flags: "--mount <spec>", description: "Attach a filesystem mount to the container" },
  { flags: "--tmpfs <spec>", description: "Mount a tmpfs directory" },
  { flags: "--volumes-from <container>", description: "Mount volumes from the specified container(s)" },
  { flags: "--log-opt <kv>", description: "Log driver options (max-size, max-file)" },
  { flags: "--platform <p>", description: "Set platform if server is multi-platform capable" },
  { flags: "--health-cmd <cmd>", description: "Command to run to check health" },
  { flags: "--health-interval <d>", description: "Time between running the check (ms|s|m|h) (default 0s)" },
  { flags: "--health-timeout <d>", description: "Maximum time to allow one check to run (ms|s|m|h) (default 0s)" },
  { flags: "--health-retries <n>", description: "Consecutive failures needed to report unhealthy" },
  { flags: "--health-start-period <d>", description: "Start period for the container to initialize before starting health-retries countdown (ms|s|m|h) (default 0s)" },
  { flags: "--no-healthcheck", description: "Disable any container-specified HEALTHCHECK" },
];

export interface CreateFlags {
  name?: string;
  interactive?: boolean;
  tty?: boolean;
  env?: unknown;
  envFile?: unknown;
  workdir?: string;
  user?: string | number;
  entrypoint?: string;
  hostname?: string;
  memory?: string | number;
  memorySwap?: string | number;
  cpus?: string | number;
  cpuShares?: string | number;
  pidsLimit?: string | number;
  readOnly?: boolean;
  capAdd?: unknown;
  capDrop?: unknown;
  privileged?: boolean;
  securityOpt?: unknown;
  ulimit?: unknown;
  userns?: string;
  init?: boolean;
  restart?: string;
  stopSignal?: string;
  stopTimeout?: string | number;
  label?: unknown;
  publish?: unknown;
  publishAll?: boolean;
  expose?: unknown;
  network?: string;
  networkAlias?: unknown;
  ip?: string;
  dns?: unknown;
  addHost?: unknown;
  volume?: unknown;
  mount?: unknown;
  tmpfs?: unknown;
  volumesFrom?: unknown;
  logOpt?: unknown;
  platform?: string;
  healthCmd?: string;
  healthInterval?: string;
  healthTimeout?: string;
  healthRetries?: string | number;
  healthStartPeriod?: string;
  /** false with --no-healthcheck (the parser's negated flag). */
  healthcheck?: boolean;
  "--"?: string[];
}

/** Config.Healthcheck from the --health-* flags, as the docker CLI builds it (cli/command/container/opts.go). */
export function healthcheck(f: CreateFlags): Record<string, unknown> | undefined {
  const dur = (v: string | undefined, flag: string) => {
    const ns = v === undefined ? 0 : parseDuration(String(v));
    if (ns < 0) throw new Error(`--${flag} cannot be negative`);
    return ns;
  };
  const hc = {
    Interval: dur(f.healthInterval, "health-interval"),
    Timeout: dur(f.healthTimeout, "health-timeout"),
    StartPeriod: dur(f.healthStartPeriod, "health-start-period"),
    Retries: f.healthRetries === undefined ? 0 : Number(f.healthRetries),
  };
  if (hc.Retries < 0) throw new Error("--health-retries cannot be negative");
  const any = !!f.healthCmd || hc.Interval !== 0 || hc.Timeout !== 0 || hc.StartPeriod !== 0 || hc.Retries !== 0;
  if (f.healthcheck === false) {
    if (any) throw new Error("--no-healthcheck conflicts with --health-* options");
    return { Test: ["NONE"] };
  }
  if (!any) return undefined;
  return { Test: f.healthCmd ? ["CMD-SHELL", f.healthCmd] : null, ...hc };
}

function envFiles(files: string[]): string[] {
  const out: string[] = [];
  for (const f of files) {
    for (const raw of readText(f).split("\n")) {
      const line = raw.trim();
      if (!line || line.startsWith("#")) continue;
      out.push(line.includes("=") ? line : `${line}=${process.env[line] ?? ""}`);
    }
  }
  return out;
}

function envList(vals: string[]): string[] {
  // `-e NAME` takes the value from the client's environment, as docker does.
  return vals.map((e) => (e.includes("=") ? e : `${e}=${process.env[e] ?? ""}`));
}

function restartPolicy(v: string | undefined): { Name: string; MaximumRetryCount: number } | undefined {
  if (!v) return undefined;
  const [name, max] = v.split(":");
  return { Name: name!, MaximumRetryCount: max ? Number(max) : 0 };
}

function keyValues(vals: string[]): Record<string, string> {
  return Object.fromEntries(vals.map((kv) => {
    const i = kv.indexOf("=");
    return i < 0 ? [kv, ""] : [kv.slice(0, i), kv.slice(i + 1)];
  }));
}

/** Builds the POST /containers/create body from run/create flags, as the docker CLI does. */
export function createBody(image: string, cmd: string[], f: CreateFlags, attach: { stdin: boolean; stdout: boolean; stderr: boolean }, autoRemove: boolean): Record<string, unknown> {
  // The network driver's parser: the same rules (ranges, protocols) as the daemon applies.
  const bindings: PortBindings = {};
  for (const spec of list(f.publish)) parsePublish(spec, bindings);
  const exposed: Record<string, object> = Object.fromEntries(Object.keys(bindings).map((k) => [k, {}]));
  for (const e of list(f.expose)) exposed[e.includes("/") ? e : `${e}/tcp`] = {};
  const tmpfs = Object.fromEntries(list(f.tmpfs).map((t) => {
    const [path, opts = ""] = t.split(/:(.*)/s) as [string, string?];
    return [path, opts];
  }));
  const net = f.network ?? "default";
  const aliases = list(f.networkAlias);
  // Only a TTY has a size; and process.stdout, once touched, costs a run ~5 ms to set up.
  const size = f.tty && process.stdout.isTTY ? [process.stdout.rows ?? 24, process.stdout.columns ?? 80] : [0, 0];
  return {
    Hostname: f.hostname ?? "",
    User: f.user === undefined ? "" : String(f.user),
    AttachStdin: attach.stdin,
    AttachStdout: attach.stdout,
    AttachStderr: attach.stderr,
    ExposedPorts: exposed,
    Tty: !!f.tty,
    OpenStdin: !!f.interactive,
    StdinOnce: !!f.interactive && attach.stdin,
    Env: [...envFiles(list(f.envFile)), ...envList(list(f.env))],
    Cmd: cmd.length ? cmd : null,
    Image: image,
    WorkingDir: f.workdir ?? "",
    Entrypoint: f.entrypoint === undefined ? null : [String(f.entrypoint)],
    Labels: keyValues(list(f.label)),
    ...(f.stopSignal ? { StopSignal: f.stopSignal } : {}),
    ...(f.stopTimeout !== undefined ? { StopTimeout: Number(f.stopTimeout) } : {}),
    ...(healthcheck(f) ? { Healthcheck: healthcheck(f) } : {}),
    HostConfig: {
      Binds: list(f.volume),
      NetworkMode: net,
      PortBindings: bindings,
      RestartPolicy: restartPolicy(f.restart) ?? { Name: "no", MaximumRetryCount: 0 },
      AutoRemove: autoRemove,
      VolumesFrom: list(f.volumesFrom),
      CapAdd: list(f.capAdd),
      CapDrop: list(f.capDrop),
      Dns: list(f.dns),
      ExtraHosts: list(f.addHost),
      Privileged: !!f.privileged,
      ...securityOptFlags(list(f.securityOpt)),
      Ulimits: ulimitFlags(list(f.ulimit)),
      UsernsMode: usernsFlag(f.userns),
      PublishAllPorts: !!f.publishAll,
      ReadonlyRootfs: !!f.readOnly,
      Tmpfs: tmpfs,
      Mounts: list(f.mount).map(parseMount),
      Memory: f.memory !== undefined ? parseBytes(f.memory) : 0,
      MemorySwap: f.memorySwap !== undefined ? (String(f.memorySwap) === "-1" ? -1 : parseBytes(f.memorySwap)) : 0,
      NanoCpus: f.cpus !== undefined ? Math.round(Number(f.cpus) * 1e9) : 0,
      CpuShares: f.cpuShares !== undefined ? Number(f.cpuShares) : 0,
      PidsLimit: f.pidsLimit !== undefined ? Number(f.pidsLimit) : null,
      Init: f.init ? true : null,
      LogConfig: { Type: "", Config: keyValues(list(f.logOpt)) },
      ConsoleSize: size,
    },
    NetworkingConfig: {
      EndpointsConfig: { [net]: { Aliases: aliases.length ? aliases : null, IPAMConfig: f.ip ? { IPv4Address: f.ip } : null } },
    },
  };
}

/** `--mount type=bind,source=/a,target=/b,readonly` → HostConfig.Mounts entry. */
export function parseMount(spec: string): Record<string, unknown> {
  const m: Record<string, unknown> = { Type: "volume" };
  const tmpfs: Record<string, number> = {};
  const vol: { NoCopy?: boolean; Labels?: Record<string, string>; DriverConfig?: { Name?: string; Options?: Record<string, string> } } = {};
  const kv = (s: string): [string, string] => (s.includes("=") ? [s.slice(0, s.indexOf("=")), s.slice(s.indexOf("=") + 1)] : [s, ""]);
  for (const part of spec.split(",")) {
    // Only the first "=" splits: `volume-opt=o=size=1m` keeps its value whole.
    const [k, v] = part.includes("=") ? kv(part) : [part, "true"];
    switch (k) {
      case "type":
        m.Type = v;
        break;
      case "source":
      case "src":
        m.Source = v;
        break;
      case "target":
      case "destination":
      case "dst":
        m.Target = v;
        break;
      case "readonly":
      case "ro":
        m.ReadOnly = v !== "false" && v !== "0";
        break;
      case "tmpfs-size":
        tmpfs.SizeBytes = parseBytes(v);
        break;
      case "tmpfs-mode":
        tmpfs.Mode = parseInt(v, 8);
        break;
      case "volume-nocopy":
        vol.NoCopy = v !== "false" && v !== "0";
        break;
      case "volume-label":
        vol.Labels = { ...vol.Labels, [kv(v)[0]]: kv(v)[1] };
        break;
      case "volume-driver":
        vol.DriverConfig = { ...vol.DriverConfig, Name: v };
        break;
      case "volume-opt":
        vol.DriverConfig = { ...vol.DriverConfig, Options: { ...vol.DriverConfig?.Options, [kv(v)[0]]: kv(v)[1] } };
        break;
      case "bind-propagation":
        m.BindOptions = { Propagation: v };
        break;
      default:
        throw new Error(`unexpected key '${k}' in '${spec}'`);
    }
  }
  if (Object.keys(tmpfs).length) m.TmpfsOptions = tmpfs;
  if (Object.keys(vol).length) m.VolumeOptions = vol;
  if (!m.Target) throw new Error(`target is required in '${spec}'`);
  return m;
}
