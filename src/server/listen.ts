import net from "node:net";
import tls from "node:tls";
import { chmodSync, chownSync, existsSync, mkdirSync, unlinkSync } from "node:fs";
import { dirname } from "node:path";
import { parseHost } from "../hosts.ts";
import { log } from "../log.ts";
import type { ConnectionHandler, TlsOptions } from "./http.ts";
import { listenUnix } from "./front/listener.ts";
import type { Conn } from "./front/conn.ts";

export interface ListenOptions {
  /** Group owning a unix socket (socket-group.ts); null = root. */
  gid?: number | null;
  /** Certificate and key for a tcp:// host (required there). */
  tls?: TlsOptions;
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
 * Unix sockets are served by Bun.listen (front/listener.ts): the common path,
 * one fresh connection per docker or ctr command. tcp:// (TLS only) by
 * node:tls, a rare path where Bun.listen's TLS would need its own certificate
 * handling for --tlsverify; both hand their connections to the same HTTP front.
 * Half-open both: a client that half-closes after an attach or exec start
 * still gets all the output.
 */
export async function listenOn(serve: ConnectionHandler, host: string, opts: ListenOptions = {}): Promise<Listener> {
  const addr = parseHost(host);
  if (addr.kind === "tcp" && !opts.tls) {
    throw new Error(`refusing to listen on ${host} without TLS: pass --tlscert and --tlskey`);
  }
  if (addr.kind === "unix") {
    mkdirSync(dirname(addr.path), { recursive: true, mode: 0o711 });
    if (existsSync(addr.path)) {
      if (await socketAlive(addr.path)) throw new Error(`another daemon is already serving on ${addr.path}`);
      unlinkSync(addr.path);
    }
    const server = listenUnix(addr.path, serve);
    if (opts.gid !== undefined && opts.gid !== null) chownSync(addr.path, 0, opts.gid);
    chmodSync(addr.path, 0o660);
    return { close: async () => server.stop() };
  }
  const t = opts.tls!;
  if (!t.verify) {
    // dockerd's words: without client certificates anyone who reaches the port is root here.
    log.warn(`Binding to ${host} with TLS but without --tlsverify is insecure and gives root access on this machine to everyone who can reach this port. [!] DON'T BIND ON ANY IP ADDRESS WITHOUT setting --tlsverify IF YOU DON'T KNOW WHAT YOU'RE DOING [!]`);
  }
  const open = new Set<tls.TLSSocket>();
  const server = tls.createServer({ cert: t.cert, key: t.key, ca: t.ca, requestCert: !!t.verify, rejectUnauthorized: !!t.verify, allowHalfOpen: true }, (sock) => {
    open.add(sock);
    sock.once("close", () => open.delete(sock));
    serve(sock as Conn);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(addr.port, addr.host, resolve);
  });
  return {
    close: async () => {
      const closed = new Promise<void>((r) => server.close(() => r()));
      for (const s of open) s.destroy();
      await closed;
    },
  };
}
