import { readFileSync } from "node:fs";
import type { Container } from "./types.ts";
import type { Networking } from "./ports.ts";

/** /etc/hosts as Docker writes it: localhost lines, --add-host entries, then the container's own name. */
export function hostsFile(c: Container, ownIp?: string): string {
  const lines = [
    "127.0.0.1\tlocalhost",
    "::1\tlocalhost ip6-localhost ip6-loopback",
    "fe00::0\tip6-localnet",
    "ff00::0\tip6-mcastprefix",
    "ff02::1\tip6-allnodes",
    "ff02::2\tip6-allrouters",
  ];
  for (const h of c.hostConfig.ExtraHosts ?? []) {
    const i = h.lastIndexOf(":");
    if (i > 0) lines.push(`${h.slice(i + 1)}\t${h.slice(0, i)}`);
  }
  if (ownIp) lines.push(`${ownIp}\t${c.config.Hostname}`);
  return lines.join("\n") + "\n";
}

/** The host's resolv.conf minus loopback resolvers (unreachable from a container), or --dns values. */
export function resolvConf(c: Container, hostConf = "/etc/resolv.conf"): string {
  const dns = c.hostConfig.Dns ?? [];
  if (dns.length) return dns.map((d) => `nameserver ${d}`).join("\n") + "\n";
  let text = "";
  try {
    text = readFileSync(hostConf, "utf8");
  } catch {}
  return (
    text
      .split("\n")
      .filter((l) => !/^\s*nameserver\s+(127\.|::1)/.test(l))
      .join("\n")
      .trim() + "\n"
  );
}

/**
 * Networking when no network driver is wired: the container gets a network
 * namespace with only `lo` (bridge and none alike), or the host's (host mode).
 */
export const isolatedNetworking: Networking = {
  connect: async () => ({}),
  disconnect: async () => {},
  files: (c) => ({ hosts: hostsFile(c), resolvConf: resolvConf(c) }),
  needsNetns: () => false,
};
