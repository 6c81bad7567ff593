// Legacy links (`--link name:alias`) on the default bridge, as dockerd makes
// them (daemon/links, daemon/container_operations.go): HostConfig.Links holds
// "/child:/parent/alias"; at start each child must run, and the parent gets a
// hosts line per link and the link environment variables. On user networks
// the docker CLI sends links as the endpoint's Links instead, and the
// resolver answers them (network/manager.ts).
import { EngineError, InvalidParameterError } from "../errors.ts";
import type { Container } from "./types.ts";

export interface Link {
  /** The linked container's name, without "/". */
  child: string;
  alias: string;
}

/** "name" or "name:alias" as a client sends it; "/child:/parent/alias" as stored. */
export function parseLink(s: string): Link {
  const parts = s.split(":");
  if (parts.length > 2 || !parts[0]) throw new EngineError(`bad format for links: ${s}`);
  const child = parts[0].replace(/^\//, "");
  const alias = (parts[1] ?? child).split("/").pop()!;
  return { child, alias };
}

/** The stored form dockerd shows in HostConfig.Links. */
export const storedLink = (l: Link, parent: string): string => `/${l.child}:/${parent}/${l.alias}`;

/** What the parent needs to know of a running child. */
export interface LinkedChild {
  name: string;
  hostname: string;
  ip: string;
  env: readonly string[];
  /** Config.ExposedPorts keys: "80/tcp", "53/udp". */
  ports: readonly string[];
}

/** The error dockerd gives at start when a linked container does not run. */
export function notRunning(l: Link, parent: string): EngineError {
  return new EngineError(`Cannot link to a non running container: /${l.child} AS /${parent}/${l.alias}`);
}

/** The /etc/hosts line of one link: "ip\talias hostname name" (the name only when it differs from the alias). */
export function linkHostLine(l: Link, c: LinkedChild): string {
  const names = [l.alias, c.hostname, ...(c.name !== l.alias ? [c.name] : [])];
  return `${c.ip}\t${names.join(" ")}`;
}

interface Port {
  port: number;
  proto: string;
}

/** Ports sorted as dockerd sorts them: by number, tcp before others of the same number. */
function sortedPorts(keys: readonly string[]): Port[] {
  const ps = keys.map((k) => {
    const [p = "", proto = "tcp"] = k.split("/");
    const port = Number(p);
    if (!Number.isInteger(port)) throw new InvalidParameterError(`invalid port ${k}`);
    return { port, proto: proto.toLowerCase() };
  });
  return ps.sort((a, b) => a.port - b.port || (a.proto === "tcp" ? -1 : b.proto === "tcp" ? 1 : 0));
}

/** The index of the last port of a run of consecutive numbers starting at `i` (protocols not looked at, as in dockerd). */
function runEnd(ports: Port[], i: number): number {
  let value = ports[i]!.port;
  for (let j = i + 1; j < ports.length; j++) {
    if (ports[j]!.port > value + 1) return j - 1;
    value++;
  }
  return ports.length - 1;
}

/** The environment variables one link gives the parent (links.Link.ToEnv). */
export function linkEnv(l: Link, parent: string, c: LinkedChild): string[] {
  const a = l.alias.toUpperCase().replaceAll("-", "_");
  const ip = c.ip;
  const env: string[] = [];
  const ports = sortedPorts(c.ports);
  if (ports[0]) env.push(`${a}_PORT=${ports[0].proto}://${ip}:${ports[0].port}`);
  for (let i = 0; i < ports.length; ) {
    const p = ports[i]!;
    const j = runEnd(ports, i);
    const P = `${a}_PORT_${p.port}_${p.proto.toUpperCase()}`;
    if (j > i + 1) {
      const q = ports[j]!;
      env.push(`${P}_START=${p.proto}://${ip}:${p.port}`, `${P}_ADDR=${ip}`, `${P}_PROTO=${p.proto}`, `${P}_PORT_START=${p.port}`);
      const Q = `${a}_PORT_${p.port}_${q.proto.toUpperCase()}`;
      env.push(`${Q}_END=${q.proto}://${ip}:${q.port}`, `${Q}_PORT_END=${q.port}`);
    }
    for (let k = i; k <= j; k++) {
      const x = ports[k]!;
      const X = `${a}_PORT_${x.port}_${x.proto.toUpperCase()}`;
      env.push(`${X}=${x.proto}://${ip}:${x.port}`, `${X}_ADDR=${ip}`, `${X}_PORT=${x.port}`, `${X}_PROTO=${x.proto}`);
    }
    i = j + 1;
  }
  env.push(`${a}_NAME=/${parent}/${l.alias}`);
  for (const e of c.env) {
    const eq = e.indexOf("=");
    if (eq < 0) continue;
    const name = e.slice(0, eq);
    // dockerd skips what every image sets.
    if (name === "HOME" || name === "PATH") continue;
    env.push(`${a}_ENV_${name}=${e.slice(eq + 1)}`);
  }
  return env;
}

/** `env` with `over` replacing or appended (dockerd's ReplaceOrAppendEnvValues). */
export function replaceOrAppend(env: readonly string[], over: readonly string[]): string[] {
  const out = [...env];
  for (const e of over) {
    const key = e.split("=")[0]!;
    const i = out.findIndex((x) => x.split("=")[0] === key);
    if (i >= 0) out[i] = e;
    else out.push(e);
  }
  return out;
}

/** The links a container on the default bridge has at start: its hosts lines and variables. */
export interface LinkContext {
  hosts: string[];
  env: string[];
}

const onDefaultBridge = (c: Container) => ["", "default", "bridge"].includes(c.hostConfig.NetworkMode ?? "");

/**
 * Reads the children of `c`'s links. `strict` (start, exec) refuses a child
 * that does not run, as dockerd; otherwise (a hosts rewrite) it is left out.
 */
export function linkContext(c: Container, get: (name: string) => Container, strict = true): LinkContext {
  const out: LinkContext = { hosts: [], env: [] };
  if (!onDefaultBridge(c)) return out;
  for (const s of c.hostConfig.Links ?? []) {
    const l = parseLink(s);
    let child: Container | null = null;
    try {
      child = get(l.child);
    } catch {}
    const ip = (child?.networkSettings as { Networks?: Record<string, { IPAddress?: string }> } | undefined)?.Networks?.["bridge"]?.IPAddress;
    if (!child || !child.state.Running || !ip) {
      if (strict) throw notRunning(l, c.name);
      continue;
    }
    const linked: LinkedChild = { name: child.name, hostname: child.config.Hostname, ip, env: child.config.Env, ports: Object.keys(child.config.ExposedPorts ?? {}) };
    out.hosts.push(linkHostLine(l, linked));
    out.env.push(...linkEnv(l, c.name, linked));
  }
  return out;
}

/** The container as its processes see it: link variables under its own Env (which wins). */
export function withLinkEnv(c: Container, ctx: LinkContext): Container {
  return ctx.env.length ? { ...c, config: { ...c.config, Env: replaceOrAppend(ctx.env, c.config.Env) } } : c;
}

/**
 * HostConfig.Links in dockerd's stored form; each child must exist (dockerd's
 * 400 otherwise). On a user network dockerd keeps none there: the docker CLI
 * sends them as the endpoint's Links, which the resolver answers.
 */
export function storedLinks(c: Container, find: (name: string) => Container | null): string[] | null | undefined {
  const links = c.hostConfig.Links;
  const parent = c.name;
  if (!links?.length) return links as string[] | null | undefined;
  if (!onDefaultBridge(c)) return null;
  return links.map((s) => {
    const l = parseLink(s);
    const child = find(l.child);
    if (!child) throw new InvalidParameterError(`could not get container for ${l.child}: No such container: ${l.child}`);
    return storedLink({ child: child.name, alias: l.alias }, parent);
  });
}
