// Choosing a subnet for a new bridge the way Docker's default-address-pools do:
// walk the pools in order, split each into subnets of the pool's size, and take
// the first that overlaps nothing already routed or addressed on the host and
// no other network of ours.
import { type Cidr, formatCidr, overlaps, parseCidr, split } from "./ipv4.ts";

export interface AddressPool {
  base: string;
  size: number;
}

/** Docker's built-in defaults (libnetwork ipamutils): 172.17-31.0.0/16, then 192.168.0.0/16 in /20s. */
export const DEFAULT_POOLS: readonly AddressPool[] = [
  { base: "172.17.0.0/16", size: 16 },
  { base: "172.18.0.0/16", size: 16 },
  { base: "172.19.0.0/16", size: 16 },
  { base: "172.20.0.0/14", size: 16 },
  { base: "172.24.0.0/14", size: 16 },
  { base: "172.28.0.0/14", size: 16 },
  { base: "192.168.0.0/16", size: 20 },
];

/** Parses `--default-address-pool base=10.10.0.0/16,size=24`. */
export function parsePoolFlag(s: string): AddressPool {
  const kv = Object.fromEntries(s.split(",").map((p) => p.split("=", 2) as [string, string]));
  const base = kv["base"] ?? "";
  parseCidr(base);
  const size = Number(kv["size"] ?? parseCidr(base).prefixLen);
  return { base, size };
}

export function chooseSubnet(pools: readonly AddressPool[], taken: readonly Cidr[]): Cidr | null {
  for (const p of pools) {
    for (const c of split(parseCidr(p.base), p.size)) {
      if (!taken.some((t) => overlaps(t, c))) return c;
    }
  }
  return null;
}

export { formatCidr };
