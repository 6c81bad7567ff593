// An endpoint config (what the client sent for one network) as the network
// manager's connect request: used at start and by `network connect`.
import type { EndpointConfig } from "../containers/types.ts";
import type { ConnectRequest } from "./manager.ts";

type EndpointPart = Pick<ConnectRequest, "aliases" | "ip" | "ip6" | "mac" | "linkLocal" | "links" | "dns">;

/** What an endpoint config asks of the manager (network connect, and start for each configured network). */
export function endpointRequest(cfg: EndpointConfig, dns: readonly string[] | null | undefined, mac?: string): EndpointPart {
  return {
    aliases: cfg.Aliases ?? [],
    ip: cfg.IPAMConfig?.IPv4Address || undefined,
    ip6: cfg.IPAMConfig?.IPv6Address || undefined,
    mac: cfg.MacAddress || mac || undefined,
    linkLocal: cfg.IPAMConfig?.LinkLocalIPs ?? [],
    links: cfg.Links ?? [],
    dns: dns ?? [],
  };
}
