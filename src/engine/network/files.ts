// /etc/hosts and /etc/resolv.conf for a container, as Docker writes them.
import { readFileSync, renameSync, writeFileSync } from "node:fs";

export interface HostFilesInput {
  hostname: string;
  domainname?: string;
  /** The container's addresses, one per network (none for none/host). */
  ips?: readonly string[];
  /** --add-host entries, "name:ip" (Docker also accepts "name=ip"). */
  extraHosts?: readonly string[] | null;
  /** Legacy links' lines ("ip\talias hostname name"), after the --add-host ones as dockerd writes them. */
  links?: readonly string[];
}

export function hostsFile(o: HostFilesInput): string {
  const lines = [
    "127.0.0.1\tlocalhost",
    "::1\tlocalhost ip6-localhost ip6-loopback",
    "fe00::0\tip6-localnet",
    "ff00::0\tip6-mcastprefix",
    "ff02::1\tip6-allnodes",
    "ff02::2\tip6-allrouters",
  ];
  for (const h of o.extraHosts ?? []) {
    const m = /^([^:=]+)[:=](.+)$/.exec(h);
    if (m) lines.push(`${m[2]}\t${m[1]}`);
  }
  lines.push(...(o.links ?? []));
  const fqdn = o.domainname ? `${o.hostname}.${o.domainname}\t${o.hostname}` : o.hostname;
  for (const ip of o.ips ?? []) lines.push(`${ip}\t${fqdn}`);
  return lines.join("\n") + "\n";
}

export interface ResolvInput {
  /** The embedded resolver's address (user networks: the gateway). */
  resolver?: string;
  dns?: readonly string[] | null;
  dnsSearch?: readonly string[] | null;
  dnsOptions?: readonly string[] | null;
  hostResolvConf?: string;
}

/**
 * User networks point at our resolver on the gateway (it forwards to the
 * host's resolvers, or to --dns values we'd pass it). The default bridge gets
 * the host's file minus loopback nameservers, unreachable from a netns, or
 * --dns values; Docker falls back to 8.8.8.8 when nothing is left, we leave
 * the file without nameserver instead of inventing an outside resolver.
 */
export function resolvConfFile(o: ResolvInput): string {
  let host = "";
  try {
    host = readFileSync(o.hostResolvConf ?? "/etc/resolv.conf", "utf8");
  } catch {}
  const hostLines = host.split("\n").map((l) => l.trim());
  const search = o.dnsSearch?.length ? [`search ${o.dnsSearch.join(" ")}`] : hostLines.filter((l) => /^(search|domain)\s/.test(l));
  let options = o.dnsOptions?.length ? [`options ${o.dnsOptions.join(" ")}`] : hostLines.filter((l) => /^options\s/.test(l));
  // With the embedded resolver dockerd adds ndots:0 unless an ndots option is given (libnetwork sandbox_dns_unix.go).
  if (o.resolver && !options.some((l) => /\sndots:/.test(l))) options = options.length ? options.map((l, i) => (i === options.length - 1 ? `${l} ndots:0` : l)) : ["options ndots:0"];
  let ns: string[];
  if (o.resolver) ns = [`nameserver ${o.resolver}`];
  else if (o.dns?.length) ns = o.dns.map((d) => `nameserver ${d}`);
  else ns = hostLines.filter((l) => /^nameserver\s/.test(l) && !/^nameserver\s+(127\.|::1$)/.test(l));
  return [...search, ...ns, ...options].join("\n") + "\n";
}

/**
 * Writes hosts and resolv.conf into the container's directory atomically
 * (temp + rename), so a bind mount of them never sees half a file. Call it
 * again after connect: the address in hosts is known only then.
 */
export function writeHostFiles(dir: string, files: { hosts: string; resolvConf: string }): void {
  for (const [name, text] of [["hosts", files.hosts], ["resolv.conf", files.resolvConf]] as const) {
    const tmp = `${dir}/.${name}.tmp`;
    writeFileSync(tmp, text, { mode: 0o644 });
    renameSync(tmp, `${dir}/${name}`);
  }
}
