// Docker Engine API shapes for /networks and a container's NetworkSettings.
import { stableId, type Endpoint } from "./manager.ts";
import type { EndpointRecord, IpamConfigEntry, NetworkRecord, PortMap } from "./store.ts";
import type { EndpointConfig } from "../containers/types.ts";

export interface DockerNetwork {
  Name: string;
  Id: string;
  Created: string;
  Scope: "local";
  Driver: "bridge" | "host" | "null";
  EnableIPv6: boolean;
  IPAM: { Driver: "default"; Options: Record<string, string> | null; Config: IpamConfigEntry[] };
  Internal: boolean;
  Attachable: boolean;
  Ingress: boolean;
  ConfigFrom: { Network: string };
  ConfigOnly: boolean;
  Containers: Record<string, { Name: string; EndpointID: string; MacAddress: string; IPv4Address: string; IPv6Address: string }>;
  Options: Record<string, string>;
  Labels: Record<string, string>;
}

export function renderNetwork(n: NetworkRecord, endpoints: readonly EndpointRecord[]): DockerNetwork {
  const containers: DockerNetwork["Containers"] = {};
  for (const e of endpoints)
    containers[e.containerId] = {
      Name: e.containerName, EndpointID: e.id, MacAddress: e.mac, IPv4Address: `${e.ip}/${e.prefixLen}`,
      IPv6Address: e.ip6 ? `${e.ip6}/${n.subnet6.split("/")[1]}` : "",
    };
  return {
    Name: n.name, Id: n.id, Created: n.created, Scope: "local", Driver: "bridge", EnableIPv6: n.enableIPv6,
    IPAM: { Driver: "default", Options: n.ipam.options ?? null, Config: ipamConfig(n) },
    Internal: n.internal, Attachable: n.attachable, Ingress: false, ConfigFrom: { Network: "" }, ConfigOnly: false,
    Containers: containers, Options: n.options, Labels: n.labels,
  };
}

/**
 * IPAM.Config as dockerd shows it: a v4 entry as the client gave it (without
 * the Gateway it did not give), or the chosen subnet with its gateway; then
 * the given v6 entry.
 */
function ipamConfig(n: NetworkRecord): IpamConfigEntry[] {
  const given = n.ipam.configs ?? [];
  const v4 = given.find((c) => c.Subnet && !c.Subnet.includes(":")) ?? { Subnet: n.subnet, Gateway: n.gateway };
  return [v4, ...given.filter((c) => c.Subnet?.includes(":"))];
}

/** `host` and `none` always exist; containers in them are listed by the caller if it wants to. */
export function renderBuiltin(name: "host" | "none", created = "0001-01-01T00:00:00Z"): DockerNetwork {
  return {
    Name: name, Id: stableId(name), Created: created, Scope: "local", Driver: name === "host" ? "host" : "null", EnableIPv6: false,
    IPAM: { Driver: "default", Options: null, Config: [] }, Internal: false, Attachable: false, Ingress: false,
    ConfigFrom: { Network: "" }, ConfigOnly: false, Containers: {}, Options: {}, Labels: {},
  };
}

/** Docker's `Ports` map: {"80/tcp": [{HostIp, HostPort}]} (null for exposed but unpublished). */
export function renderPorts(maps: readonly PortMap[], exposed?: Record<string, object> | null): Record<string, { HostIp: string; HostPort: string }[] | null> {
  const out: Record<string, { HostIp: string; HostPort: string }[] | null> = {};
  for (const k of Object.keys(exposed ?? {})) out[k.includes("/") ? k : `${k}/tcp`] = null;
  for (const m of maps) (out[`${m.containerPort}/${m.proto}`] ??= []).push({ HostIp: m.hostIp, HostPort: String(m.hostPort) });
  return out;
}

/** One entry of NetworkSettings.Networks: what the client asked for (`cfg`, echoed as given) and what it got. */
export function renderEndpointSettings(e: Endpoint, cfg?: EndpointConfig) {
  return {
    IPAMConfig: cfg?.IPAMConfig ?? null, Links: cfg?.Links ?? null, Aliases: e.aliases.length ? e.aliases : (cfg?.Aliases ?? null),
    MacAddress: e.macAddress, DriverOpts: cfg?.DriverOpts ?? null,
    NetworkID: e.networkId, EndpointID: e.endpointId, Gateway: e.gateway, IPAddress: e.ipAddress, IPPrefixLen: e.prefixLen,
    // No DNSNames: API 1.44 added it (dockerd 20.10 has none; the names are the Aliases here).
    IPv6Gateway: e.ipv6Gateway, GlobalIPv6Address: e.ipv6Address, GlobalIPv6PrefixLen: e.ipv6PrefixLen,
  };
}

/**
 * NetworkSettings as `docker inspect` shows it. The top-level IPAddress /
 * Gateway / MacAddress are the default bridge's (Docker leaves them empty for
 * user networks); `mode` is the container's NetworkMode.
 */
export function renderNetworkSettings(
  mode: string,
  endpoints: readonly Endpoint[],
  ports: readonly PortMap[],
  o: { sandboxKey?: string; exposed?: Record<string, object> | null; configs?: Record<string, EndpointConfig> } = {},
) {
  const def = endpoints.find((e) => e.networkName === "bridge");
  const networks: Record<string, ReturnType<typeof renderEndpointSettings>> = {};
  for (const e of endpoints) networks[e.networkName] = renderEndpointSettings(e, o.configs?.[e.networkName] ?? o.configs?.[e.networkId]);
  if (mode === "host" || mode === "none") networks[mode] = renderEndpointSettings({ networkId: stableId(mode), networkName: mode, endpointId: "", ipAddress: "", prefixLen: 0, gateway: "", macAddress: "", aliases: [], ipv6Address: "", ipv6PrefixLen: 0, ipv6Gateway: "" });
  return {
    Bridge: "", SandboxID: "", SandboxKey: o.sandboxKey ?? "", HairpinMode: false, LinkLocalIPv6Address: "", LinkLocalIPv6PrefixLen: 0,
    Ports: renderPorts(ports, o.exposed),
    SecondaryIPAddresses: null, SecondaryIPv6Addresses: null, EndpointID: def?.endpointId ?? "",
    Gateway: def?.gateway ?? "", GlobalIPv6Address: def?.ipv6Address ?? "", GlobalIPv6PrefixLen: def?.ipv6PrefixLen ?? 0, IPAddress: def?.ipAddress ?? "",
    IPPrefixLen: def?.prefixLen ?? 0, IPv6Gateway: def?.ipv6Gateway ?? "", MacAddress: def?.macAddress ?? "",
    Networks: networks,
  };
}

/** GET /networks: the default bridge (created on first need), user networks, host and none. */
export function renderNetworkList(m: import("./manager.ts").NetworkManager): DockerNetwork[] {
  const def = m.ensureDefault();
  const out = [renderNetwork(def, m.endpoints(def.id))];
  for (const n of m.list()) if (!n.isDefault) out.push(renderNetwork(n, m.endpoints(n.id)));
  out.push(renderBuiltin("host"), renderBuiltin("none"));
  return out;
}
