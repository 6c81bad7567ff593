// The networks a container is configured on (Container.networking.EndpointsConfig),
// kept as dockerd keeps NetworkSettings.Networks: set at create from the
// request, changed by `network connect/disconnect` whether the container runs
// or not (Compose reconnects every container before its first start), and
// plugged in this order at start.
import type { Container, EndpointConfig } from "./types.ts";

export type EndpointsConfig = Record<string, EndpointConfig>;

/**
 * At create: the NetworkMode's network first (the docker CLI files its
 * settings under the network's name, older clients under "default"), then any
 * other network the request names. `container:<id>` shares a netns and has none.
 */
export function initialEndpoints(mode: string, requested: EndpointsConfig | null | undefined): EndpointsConfig {
  const req = requested ?? {};
  const out: EndpointsConfig = {};
  if (!mode.startsWith("container:")) out[mode] = req[mode] ?? req.default ?? {};
  for (const [k, v] of Object.entries(req)) if (k !== "default" && k !== mode) out[k] = v;
  return out;
}

/** The configured networks; rows written before they were kept get the NetworkMode's. */
export function configuredEndpoints(c: Container): EndpointsConfig {
  return c.networking.EndpointsConfig ?? initialEndpoints(c.hostConfig.NetworkMode ?? "bridge", undefined);
}

/** dockerd adds the short id as an alias on user-defined networks (daemon.updateNetworkConfig). */
export function withShortIdAlias(containerId: string, aliases: readonly string[] | null | undefined): string[] {
  const short = containerId.slice(0, 12);
  const list = [...(aliases ?? [])];
  return list.includes(short) ? list : [...list, short];
}

/** One NetworkSettings.Networks entry of a container that is not plugged in: dockerd's shape, addresses empty. */
export function unpluggedEndpoint(cfg: EndpointConfig, networkId = "") {
  return {
    IPAMConfig: cfg.IPAMConfig ?? null,
    Links: cfg.Links ?? null,
    Aliases: cfg.Aliases ?? null,
    NetworkID: networkId,
    EndpointID: "",
    Gateway: "",
    IPAddress: "",
    IPPrefixLen: 0,
    IPv6Gateway: "",
    GlobalIPv6Address: "",
    GlobalIPv6PrefixLen: 0,
    MacAddress: "",
    DriverOpts: cfg.DriverOpts ?? null,
  };
}
