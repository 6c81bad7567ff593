// A stand-in for a daemon that lacks ctr's API extensions (an older ctr,
// dockerd): it answers each request's first line with what `handle` writes,
// so client fall-backs can be tested without such a daemon. One request per
// connection is read; what follows (stdin after a hijack) is ignored.

/** The socket a handler answers on. */
export type Conn = { write(b: string | Uint8Array): void; end(): void };

/** stdcopy frame (Docker's multiplexed stream). */
export function frame(stream: number, text: string): Buffer {
  const b = Buffer.from(text);
  const h = Buffer.alloc(8);
  h[0] = stream;
  h.writeUInt32BE(b.length, 4);
  return Buffer.concat([h, b]);
}

/** A whole plain answer with a JSON body. */
export const plain = (status: string, body = "") => `HTTP/1.1 ${status}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;

/** The head of a hijacked multiplexed stream, as Docker's attach and exec start send it. */
export const UPGRADED = "HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.multiplexed-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n";

export interface StandIn {
  /** "METHOD /path" of every request, API version prefix dropped. */
  seen: string[];
  stop(): void;
}

/** Listens on `sock`; `handle` gets each request's method and path (without /v1.xx). */
export function standInDaemon(sock: string, handle: (s: Conn, method: string, path: string) => void): StandIn {
  const seen: string[] = [];
  const server = Bun.listen<{ buf: string; done: boolean }>({
    unix: sock,
    socket: {
      open(s) {
        s.data = { buf: "", done: false };
      },
      data(s, d) {
        if (s.data.done) return;
        s.data.buf += Buffer.from(d).toString();
        const end = s.data.buf.indexOf("\r\n\r\n");
        if (end < 0) return;
        const length = Number(/content-length: (\d+)/i.exec(s.data.buf.slice(0, end))?.[1] ?? 0);
        if (s.data.buf.length < end + 4 + length) return;
        s.data.done = true;
        const [method, url] = s.data.buf.slice(0, s.data.buf.indexOf("\r\n")).split(" ") as [string, string];
        const path = new URL(url, "http://x").pathname.replace(/^\/v[\d.]+/, "");
        seen.push(`${method} ${path}`);
        handle(s, method, path);
      },
    },
  });
  return { seen, stop: () => server.stop(true) };
}
