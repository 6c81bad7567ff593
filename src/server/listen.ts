import type { Server } from "node:http";
import net from "node:net";
import { chmodSync, chownSync, existsSync, mkdirSync, unlinkSync } from "node:fs";
import { dirname } from "node:path";
import { parseHost } from "../hosts.ts";
import { log } from "../log.ts";

export interface ListenOptions {
  /** Group owning a unix socket (socket-group.ts); null = root. */
  gid?: number | null;
  /** Clients must present a certificate signed by the CA (--tlsverify). */
  tlsVerify?: boolean;
}

/** True when something accepts connections on the unix socket. */
export function socketAlive(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(path);
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

export interface Listener {
  /** Stops accepting and closes every connection. */
  close(): Promise<void>;
}

/**
 * Listens on a -H address. A unix socket left by a dead daemon is replaced;
 * one that still answers belongs to a live daemon and is refused.
 *
 * On a unix socket node:net accepts and hands each connection to the HTTP
 * server: its sockets carry their fd (the sockets of Bun's own HTTP listener do
 * not), which the hijack needs to see when a client has read the 101 head.
 * Half-open, as node:http's own listener: a client that half-closes after an
 * attach or exec start still gets all the output.
 */
export async function listenOn(server: Server, host: string, tls: boolean, opts: ListenOptions = {}): Promise<Listener> {
  const addr = parseHost(host);
  if (addr.kind === "tcp" && !tls) {
    throw new Error(`refusing to listen on ${host} without TLS: pass --tlscert and --tlskey`);
  }
  if (addr.kind === "tcp" && !opts.tlsVerify) {
    // dockerd's words: without client certificates anyone who reaches the port is root here.
    log.warn(`Binding to ${host} with TLS but without --tlsverify is insecure and gives root access on this machine to everyone who can reach this port. [!] DON'T BIND ON ANY IP ADDRESS WITHOUT setting --tlsverify IF YOU DON'T KNOW WHAT YOU'RE DOING [!]`);
  }
  if (addr.kind === "unix") {
    mkdirSync(dirname(addr.path), { recursive: true, mode: 0o711 });
    if (existsSync(addr.path)) {
      if (await socketAlive(addr.path)) throw new Error(`another daemon is already serving on ${addr.path}`);
      unlinkSync(addr.path);
    }
  }
  const front = addr.kind === "unix" ? net.createServer({ allowHalfOpen: true }, (sock) => server.emit("connection", sock)) : null;
  const listening = front ?? server;
  await new Promise<void>((resolve, reject) => {
    listening.once("error", reject);
    if (addr.kind === "unix") listening.listen(addr.path, resolve);
    else listening.listen(addr.port, addr.host, resolve);
  });
  if (addr.kind === "unix") {
    if (opts.gid !== undefined && opts.gid !== null) chownSync(addr.path, 0, opts.gid);
    chmodSync(addr.path, 0o660);
  }
  return {
    close: async () => {
      const closed = [new Promise<void>((r) => server.close(() => r()))];
      if (front) closed.push(new Promise<void>((r) => front.close(() => r())));
      server.closeAllConnections?.();
      await Promise.all(closed);
    },
  };
}
