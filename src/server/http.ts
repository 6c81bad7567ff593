import type { Hijackable } from "./hijack.ts";
import type { Conn } from "./front/conn.ts";
import { serveConnection } from "./front/connection.ts";
import { READ_IDLE_MS } from "./limits.ts";

export interface FetchApp {
  fetch(req: Request, env: ApiEnv): Response | Promise<Response>;
}

export interface ApiEnv {
  hijack?: Hijackable;
}

export interface TlsOptions {
  cert: string;
  key: string;
  ca?: string;
  /** --tlsverify: only clients with a certificate signed by `ca` get through. */
  verify?: boolean;
}

export interface HttpOptions {
  /** How long a request body may stay silent (while we want its bytes) before the request is dropped. */
  readIdleMs?: number;
}

/** Serves one accepted connection; `fd` when the listener knows the socket's descriptor. */
export type ConnectionHandler = (conn: Conn, fd?: number) => void;

/**
 * Serves a fetch-style app (Hono) over HTTP/1.1 on connections a listener
 * (listen.ts) accepted: our own front (src/server/front), not node:http or
 * Bun.serve, because attach and exec need the raw connection with half-close
 * and its descriptor, and node:http's path in Bun costs ~1.7 ms of CPU per
 * fresh connection (its JavaScript parser and streams) where this costs a
 * fraction: every `ctr ps` and `docker ps` opens one.
 *
 * No request is buffered here: bodies reach routes as streams with
 * backpressure (routes cap JSON, uploads go to disk), a silent body times out,
 * and a body a route left unread is dropped for a moment and the connection closed.
 */
export function httpFront(app: FetchApp, o: HttpOptions = {}): ConnectionHandler {
  const readIdleMs = o.readIdleMs ?? READ_IDLE_MS;
  return (conn, fd) => serveConnection(conn, app, { readIdleMs, fd });
}
