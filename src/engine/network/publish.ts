// Published ports: Docker's `-p` syntax and PortBindings (host-ports.ts picks free host ports).
import { InvalidParameterError } from "../errors.ts";

export type PortBindings = Record<string, { HostIp?: string; HostPort?: string }[] | null>;

export interface Binding {
  proto: "tcp" | "udp";
  containerPort: number;
  hostIp: string;
  /** 0: pick a free one. */
  hostPort: number;
}

function range(s: string, what: string): [number, number] {
  const m = /^(\d+)(?:-(\d+))?$/.exec(s);
  const a = Number(m?.[1]);
  const b = m?.[2] !== undefined ? Number(m[2]) : a;
  if (!m || a < 1 || b > 65535 || b < a) throw new InvalidParameterError(`invalid ${what}: ${s}`);
  return [a, b];
}

/**
 * `-p [hostip:][hostport:]containerport[/proto]` into PortBindings, ranges
 * expanded one key per port as the docker CLI does (nat.ParsePortSpec).
 */
export function parsePublish(spec: string, into: PortBindings = {}): PortBindings {
  let rest = spec;
  let proto = "tcp";
  const slash = rest.lastIndexOf("/");
  if (slash >= 0) {
    proto = rest.slice(slash + 1).toLowerCase();
    rest = rest.slice(0, slash);
  }
  if (proto !== "tcp" && proto !== "udp") throw new InvalidParameterError(`invalid protocol in port spec: ${spec}`);
  let hostIp = "";
  if (rest.startsWith("[")) throw new InvalidParameterError(`IPv6 host addresses are not supported: ${spec}`);
  const parts = rest.split(":");
  if (parts.length === 3) hostIp = parts.shift()!;
  if (parts.length > 2) throw new InvalidParameterError(`invalid port spec: ${spec}`);
  const [c0, c1] = range(parts[parts.length - 1]!, "container port");
  const hostSpec = parts.length === 2 ? parts[0]! : "";
  const [h0, h1] = hostSpec ? range(hostSpec, "host port") : [0, 0];
  if (hostSpec && h1 - h0 !== c1 - c0 && h0 !== h1) throw new InvalidParameterError(`port ranges do not match: ${spec}`);
  for (let p = c0; p <= c1; p++) {
    const host = !hostSpec ? "" : h0 === h1 ? String(h0) : String(h0 + (p - c0));
    (into[`${p}/${proto}`] ??= []).push({ HostIp: hostIp, HostPort: host });
  }
  return into;
}

/** PortBindings (and, with -P, every exposed port) as a flat list. */
export function bindingsOf(pb: PortBindings | null | undefined, exposed?: Record<string, object> | null, publishAll = false): Binding[] {
  const out: Binding[] = [];
  const keys = new Set(Object.keys(pb ?? {}));
  if (publishAll) for (const k of Object.keys(exposed ?? {})) keys.add(k);
  for (const key of keys) {
    const [port, proto = "tcp"] = key.split("/");
    if (proto !== "tcp" && proto !== "udp") continue; // sctp: not supported
    const containerPort = Number(port);
    const list = pb?.[key] ?? [];
    for (const b of list.length ? list : [{}]) {
      out.push({ proto, containerPort, hostIp: b.HostIp || "0.0.0.0", hostPort: b.HostPort ? Number(b.HostPort) : 0 });
    }
  }
  return out;
}
