import type { Conn } from "./conn.ts";
import type { BodyDecoder } from "./request-body.ts";

/** How long what a client still sends is read and dropped before the connection closes. */
export const LINGER_MS = 2_000;

/**
 * Closes a connection after its last answer without cutting that answer off.
 * Closing a socket with unread bytes resets it, and a client still sending (an
 * unread 2 GB upload, a body after a refused head) could lose the answer; so
 * what still comes is read and dropped for a moment first, as Go's net/http
 * does. The close comes at the client's end, at the end of `body` (the rest of
 * a request body nobody read), or after LINGER_MS. With `end`, our side
 * half-closes first (a close-delimited answer ends there).
 */
export function lingerClose(conn: Conn, o: { end?: boolean; body?: BodyDecoder } = {}): void {
  if (conn.destroyed) return;
  const close = () => {
    clearTimeout(timer);
    conn.destroy();
  };
  const timer = setTimeout(close, LINGER_MS);
  const drop = () => {};
  conn.on("data", (d: Buffer) => {
    try {
      o.body?.feed(d, drop);
    } catch {
      return close(); // the client broke the framing: nothing worth waiting for
    }
    if (o.body?.done) close();
  });
  conn.once("end", close);
  conn.once("close", () => clearTimeout(timer));
  if (o.end) conn.end();
  if (o.body?.done) return close();
  conn.resume();
}
