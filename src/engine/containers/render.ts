import type { Container } from "./types.ts";
import { containerPaths } from "./files.ts";
import { hostConfigView } from "./host-config-view.ts";
import { ZERO_TIME } from "./types.ts";
import { healthSuffix } from "./health.ts";
import { configuredEndpoints, unpluggedEndpoint } from "./endpoints.ts";
import { portNumber, stringMap } from "../string-map.ts";
import { humanDuration } from "../../units.ts";

/** GET /containers/{id}/json: dockerd's shape (the CLI prints it as-is; `logs` needs Config). */
export function inspectView(c: Container, o: { root: string; driver: string; execIds: string[]; imageConfigId: string }) {
  const p = containerPaths(o.root, c.id);
  const args = commandOf(c);
  return {
    Id: c.id,
    Created: c.created,
    Path: args[0] ?? "",
    Args: args.slice(1),
    State: c.state,
    Image: o.imageConfigId,
    ResolvConfPath: p.resolvConf,
    HostnamePath: p.hostname,
    HostsPath: p.hosts,
    LogPath: p.log,
    Name: `/${c.name}`,
    RestartCount: c.restartCount,
    Driver: o.driver,
    Platform: "linux",
    MountLabel: "",
    ProcessLabel: "",
    AppArmorProfile: "",
    ExecIDs: o.execIds.length ? o.execIds : null,
    HostConfig: hostConfigView(c.hostConfig, { started: c.state.StartedAt !== ZERO_TIME }),
    GraphDriver: { Name: o.driver, Data: null },
    Mounts: mountsView(c),
    Config: c.config,
    NetworkSettings: networkSettingsView(c),
  };
}

export function networkSettingsView(c: Container) {
  const ns = c.networkSettings as Record<string, any>;
  const networks = (ns.Networks ?? {}) as Record<string, any>;
  // dockerd fills the top-level address fields from the default bridge only (empty on user networks).
  const primary = networks["bridge"] ?? {};
  return {
    Bridge: "",
    SandboxID: "",
    // The networking layer's pinned netns file while the container runs (host and container: modes have none of their own).
    SandboxKey: c.state.Pid ? ((ns.SandboxKey as string | undefined) || `/proc/${c.state.Pid}/ns/net`) : "",
    HairpinMode: false,
    LinkLocalIPv6Address: "",
    LinkLocalIPv6PrefixLen: 0,
    Ports: ns.Ports ?? {},
    SecondaryIPAddresses: null,
    SecondaryIPv6Addresses: null,
    EndpointID: primary.EndpointID ?? "",
    Gateway: primary.Gateway ?? "",
    GlobalIPv6Address: primary.GlobalIPv6Address ?? "",
    GlobalIPv6PrefixLen: primary.GlobalIPv6PrefixLen ?? 0,
    IPAddress: primary.IPAddress ?? "",
    IPPrefixLen: primary.IPPrefixLen ?? 0,
    IPv6Gateway: primary.IPv6Gateway ?? "",
    MacAddress: primary.MacAddress ?? "",
    Networks: Object.keys(networks).length ? networks : unpluggedNetworks(c),
  };
}

/** A container not plugged in (created, stopped) shows the networks it is configured on, without addresses. */
function unpluggedNetworks(c: Container) {
  return Object.fromEntries(Object.entries(configuredEndpoints(c)).map(([name, cfg]) => [name, unpluggedEndpoint(cfg)]));
}

/**
 * Docker's `Mounts`: --tmpfs mounts are not mount points there (only
 * --mount type=tmpfs is, with an empty Mode; ours keeps its options in Mode).
 */
function mountsView(c: Container) {
  const tmpfs = c.hostConfig.Tmpfs ?? {};
  return c.mounts.filter((m) => !(m.Type === "tmpfs" && Object.hasOwn(tmpfs, m.Destination))).map((m) => (m.Type === "tmpfs" ? { ...m, Mode: "" } : m));
}

export function commandOf(c: Container): string[] {
  return [...(c.config.Entrypoint ?? []), ...(c.config.Cmd ?? [])];
}

/** Docker's Status column: "Up 5 minutes", "Exited (0) 3 seconds ago", "Created". */
export function statusText(c: Container, now = Date.now()): string {
  const since = (t: string) => humanDuration((now - Date.parse(t)) / 1000);
  const s = c.state;
  if (s.Status === "running") return `Up ${since(s.StartedAt)}${healthSuffix(s.Health)}`;
  if (s.Status === "paused") return `Up ${since(s.StartedAt)} (Paused)`;
  if (s.Status === "restarting") return `Restarting (${s.ExitCode}) ${since(s.FinishedAt)} ago`;
  if (s.Status === "exited") return `Exited (${s.ExitCode}) ${since(s.FinishedAt)} ago`;
  if (s.Status === "dead") return "Dead";
  if (s.Status === "removing") return "Removal In Progress";
  return "Created";
}

/** GET /containers/json element. `Names` with a leading "/" and integer `Created` (the CLI insists). */
export function listView(c: Container, imageConfigId: string) {
  const ns = c.networkSettings as Record<string, any>;
  return {
    Id: c.id,
    Names: [`/${c.name}`],
    Image: c.imageRef,
    ImageID: imageConfigId,
    Command: commandOf(c).map(quoteArg).join(" "),
    Created: Math.floor(Date.parse(c.created) / 1000),
    Ports: portsList(ns.Ports ?? {}, c),
    Labels: stringMap(c.config.Labels),
    State: c.state.Status,
    Status: statusText(c),
    HostConfig: { NetworkMode: c.hostConfig.NetworkMode ?? "bridge" },
    NetworkSettings: { Networks: networkSettingsView(c).Networks },
    Mounts: mountsView(c),
  };
}

function quoteArg(a: string): string {
  return /[\s'"]/.test(a) ? `'${a.replace(/'/g, `'\\''`)}'` : a;
}

function portsList(ports: Record<string, { HostIp: string; HostPort: string }[] | null>, c: Container) {
  const out: { IP?: string; PrivatePort: number; PublicPort?: number; Type: string }[] = [];
  // A port that is not a uint16 (stored before the API checked) is left out: the docker CLI cannot decode it.
  for (const [key, bindings] of Object.entries(ports)) {
    const [p, type = "tcp"] = key.split("/");
    const port = portNumber(p);
    if (port === undefined) continue;
    if (!bindings?.length) out.push({ PrivatePort: port, Type: type });
    for (const b of bindings ?? []) out.push({ IP: b.HostIp || "0.0.0.0", PrivatePort: port, PublicPort: portNumber(b.HostPort) ?? 0, Type: type });
  }
  if (!Object.keys(ports).length) {
    for (const key of Object.keys(c.config.ExposedPorts ?? {})) {
      const [p, type = "tcp"] = key.split("/");
      const port = portNumber(p);
      if (port !== undefined) out.push({ PrivatePort: port, Type: type });
    }
  }
  return out;
}

