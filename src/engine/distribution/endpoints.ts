// Where a registry domain is reached. Docker: docker.io's API lives at
// registry-1.docker.io, mirrors (--registry-mirror) are tried first and only
// for docker.io pulls; HTTPS always, except that loopback hosts and
// --insecure-registry entries (host[:port] or CIDR) may fall back to plain
// HTTP (docker's registry.isSecureIndex / the "insecure" endpoint).
import { isIP } from "node:net";

export interface RegistryHostsConfig {
  /** host[:port] or CIDR (10.0.0.0/8) entries. */
  insecureRegistries: readonly string[];
  /** Mirror base URLs for docker.io (https://mirror.example or http://127.0.0.1:5001). */
  registryMirrors: readonly string[];
}

export interface Endpoint {
  /** Base URL without /v2/, e.g. https://registry-1.docker.io */
  url: string;
  /** May we retry over plain HTTP if TLS fails (and skip certificate checks)? */
  insecure: boolean;
  mirror: boolean;
}

function hostOnly(hostPort: string): string {
  if (hostPort.startsWith("[")) return hostPort.slice(1, hostPort.indexOf("]"));
  const i = hostPort.lastIndexOf(":");
  return i === -1 ? hostPort : hostPort.slice(0, i);
}

function ipv4ToInt(ip: string): number {
  return ip.split(".").reduce((n, o) => (n << 8) + Number(o), 0) >>> 0;
}

function inCidr(ip: string, cidr: string): boolean {
  const [net, bits] = cidr.split("/");
  if (!net || bits === undefined || isIP(net) !== 4 || isIP(ip) !== 4) return false;
  const b = Number(bits);
  const mask = b === 0 ? 0 : (~0 << (32 - b)) >>> 0;
  return (ipv4ToInt(ip) & mask) === (ipv4ToInt(net) & mask);
}

/** Loopback and configured registries may use plain HTTP. */
export function isInsecure(hostPort: string, cfg: RegistryHostsConfig): boolean {
  const h = hostOnly(hostPort);
  if (h === "localhost" || h === "::1" || inCidr(h, "127.0.0.0/8")) return true;
  for (const e of cfg.insecureRegistries) {
    if (e === hostPort || e === h) return true;
    if (e.includes("/") && inCidr(h, e)) return true;
  }
  return false;
}

/** Endpoints to try in order for `domain`; mirrors only when pulling from docker.io. */
export function endpointsFor(domain: string, cfg: RegistryHostsConfig, forPush = false): Endpoint[] {
  const out: Endpoint[] = [];
  if (domain === "docker.io") {
    if (!forPush) {
      for (const m of cfg.registryMirrors) {
        const u = new URL(m.includes("://") ? m : `https://${m}`);
        out.push({ url: `${u.protocol}//${u.host}`, insecure: u.protocol === "http:" || isInsecure(u.host, cfg), mirror: true });
      }
    }
    out.push({ url: "https://registry-1.docker.io", insecure: false, mirror: false });
    return out;
  }
  out.push({ url: `https://${domain}`, insecure: isInsecure(domain, cfg), mirror: false });
  return out;
}
