// Parsing of -H/--host values shared by the client and the daemon.
export const DEFAULT_HOST = "unix:///run/ctr/ctr.sock";

export type HostAddr = { kind: "unix"; path: string } | { kind: "tcp"; host: string; port: number };

export function parseHost(h: string): HostAddr {
  if (h.startsWith("unix://")) {
    const path = h.slice("unix://".length);
    if (!path.startsWith("/")) throw new Error(`invalid host ${h}: unix socket path must be absolute`);
    return { kind: "unix", path };
  }
  if (h.startsWith("/")) return { kind: "unix", path: h };
  if (h.startsWith("tcp://")) {
    const u = new URL(h.replace(/^tcp:/, "http:"));
    return { kind: "tcp", host: u.hostname || "127.0.0.1", port: Number(u.port || 2376) };
  }
  throw new Error(`invalid host ${h}: want unix:///path or tcp://host:port`);
}
