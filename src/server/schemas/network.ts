// POST /networks/create (types.NetworkCreateRequest with NetworkCreate embedded),
// POST /networks/{id}/connect (types.NetworkConnect) and …/disconnect (types.NetworkDisconnect).
import { isIP } from "node:net";
import { array, bool, map, rule, rules, string, struct, topLevel, type Out } from "./go-json.ts";
import { EndpointSettings } from "./container.ts";

const labels = map(string, "map[string]string");

const IPAMConfig = struct("network.IPAMConfig", "IPAMConfig", { Subnet: string, IPRange: string, Gateway: string, AuxiliaryAddresses: labels });
const IPAM = struct("network.IPAM", "IPAM", { Driver: string, Options: labels, Config: array(IPAMConfig, "[]network.IPAMConfig") });

const create = struct("types.NetworkCreateRequest", "NetworkCreateRequest", {
  Name: string,
  CheckDuplicate: bool,
  Driver: string,
  Scope: string,
  EnableIPv6: bool,
  EnableIPv4: bool,
  IPAM,
  Internal: bool,
  Attachable: bool,
  Ingress: bool,
  ConfigOnly: bool,
  ConfigFrom: struct("network.ConfigReference", "ConfigReference", { Network: string }),
  Options: labels,
  Labels: labels,
});

/** A CIDR as Go's net.ParseCIDR takes it (IPv4 or IPv6 address, `/` and a prefix length). */
function validCidr(s: string): boolean {
  const [ip, len, ...rest] = s.split("/");
  const family = isIP(ip ?? "");
  return !rest.length && family !== 0 && /^\d{1,3}$/.test(len ?? "") && Number(len) <= (family === 4 ? 32 : 128);
}

/** dockerd answers an empty name with "invalid name: " (its libnetwork name check), a bad subnet with libnetwork's words. */
export const NetworkCreateBody = topLevel(
  rules(create, [
    (n) => (n.Name ? undefined : "invalid name: "),
    (n) => {
      const bad = n.IPAM?.Config?.find((c) => c.Subnet && !validCidr(c.Subnet));
      return bad ? `Invalid subnet ${bad.Subnet} : invalid CIDR address: ${bad.Subnet}` : undefined;
    },
  ]),
);
export type NetworkCreateBody = Out<typeof create>;

const noContainer = (b: { Container?: string }) => (b.Container ? undefined : `invalid name or ID supplied: ""`);

const connect = struct("types.NetworkConnect", "NetworkConnect", { Container: string, EndpointConfig: EndpointSettings });
export const NetworkConnectBody = topLevel(rule(connect, noContainer));
export type NetworkConnectBody = Out<typeof connect>;

const disconnect = struct("types.NetworkDisconnect", "NetworkDisconnect", { Container: string, Force: bool });
export const NetworkDisconnectBody = topLevel(rule(disconnect, noContainer));
export type NetworkDisconnectBody = Out<typeof disconnect>;
