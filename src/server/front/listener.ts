import { BunConn } from "./conn.ts";
import type { ConnectionHandler } from "../http.ts";

export interface UnixListener {
  /** Stops accepting and closes every connection. */
  stop(): void;
}

/**
 * Accepts on a unix socket with Bun.listen: its sockets carry their descriptor
 * (the hijack's wait on the 101 head needs it) and cost little per connection.
 * allowHalfOpen: a client's half-close ends its stdin, not our output.
 */
export function listenUnix(path: string, serve: ConnectionHandler): UnixListener {
  const server = Bun.listen<BunConn>({
    unix: path,
    allowHalfOpen: true,
    socket: {
      open(s) {
        const conn = new BunConn(s);
        s.data = conn;
        serve(conn, conn.fd);
      },
      data: (s, d) => s.data.received(d),
      drain: (s) => s.data.drained(),
      end: (s) => s.data.peerEnded(),
      close: (s) => s.data?.closed(),
      error: (s, e) => s.data?.failed(e),
    },
  });
  return { stop: () => server.stop(true) };
}
