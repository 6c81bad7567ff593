// Host ports for published container ports: the kernel's ephemeral range and
// whether a port is free. Apart from publish.ts (pure parsing, which the CLI
// imports for -p): node:net and node:dgram cost every `ctr run` ~10 ms to load.
import { createServer } from "node:net";
import { createSocket } from "node:dgram";
import { readFileSync } from "node:fs";

/** The kernel's ephemeral range, which Docker also draws random host ports from. */
export function ephemeralRange(path = "/proc/sys/net/ipv4/ip_local_port_range"): [number, number] {
  try {
    const [a, b] = readFileSync(path, "utf8").trim().split(/\s+/).map(Number);
    if (a && b) return [a, b];
  } catch {}
  return [49153, 60999];
}

/** Whether nothing on the host listens on ip:port (a DNAT rule would shadow it). */
export function portFree(proto: "tcp" | "udp", ip: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    if (proto === "tcp") {
      const s = createServer();
      s.once("error", () => resolve(false));
      s.listen({ host: ip, port, exclusive: true }, () => s.close(() => resolve(true)));
    } else {
      const s = createSocket("udp4");
      s.once("error", () => {
        s.close();
        resolve(false);
      });
      s.bind({ address: ip, port, exclusive: true }, () => s.close(() => resolve(true)));
    }
  });
}
