// Speaking HTTP/1.1 to a unix socket in raw bytes, and reading the answers
// back as they arrive: for tests of the daemon's HTTP front (and dockerd's).
import net from "node:net";
import tls from "node:tls";
import { until } from "./daemon.ts";

export interface Talk {
  /** Everything received so far. */
  got(): Buffer;
  /** The server ended its side (or the connection is gone). */
  closed(): boolean;
  write(b: string | Buffer): void;
  /** Half-closes our side; we still read. */
  end(): void;
  destroy(): void;
}

/** A connection to a unix socket path, or over TLS to 127.0.0.1:port (any certificate). */
export function talk(to: string | { tlsPort: number }): Promise<Talk> {
  return new Promise((resolve, reject) => {
    const s =
      typeof to === "string"
        ? net.connect({ path: to, allowHalfOpen: true })
        : tls.connect({ host: "127.0.0.1", port: to.tlsPort, rejectUnauthorized: false, allowHalfOpen: true } as tls.ConnectionOptions);
    let got = Buffer.alloc(0);
    let closed = false;
    s.on("data", (d: Buffer) => (got = Buffer.concat([got, d])));
    s.on("error", () => {});
    // The server's end of the stream is what counts (this side stays open half-closed: allowHalfOpen).
    s.on("end", () => (closed = true));
    s.on("close", () => (closed = true));
    s.once("error", reject);
    s.once(typeof to === "string" ? "connect" : "secureConnect", () =>
      resolve({
        got: () => got,
        closed: () => closed,
        write: (b) => void s.write(b),
        end: () => void s.end(),
        destroy: () => s.destroy(),
      }),
    );
  });
}

export interface Answer {
  status: number;
  /** The status line after the code ("Bad Request: invalid header name"). */
  reason: string;
  /** Field names lower-cased; the last of duplicates. */
  headers: Record<string, string>;
  body: Buffer;
  /** Bytes after this answer. */
  rest: Buffer;
}

/**
 * The first complete answer in `b`, or null: framed by Content-Length, chunked,
 * or (with neither) by the close once `closed`. `bodyless`: a HEAD's answer.
 */
export function answerIn(b: Buffer, closed = false, bodyless = false): Answer | null {
  const end = b.indexOf("\r\n\r\n");
  if (end < 0) return null;
  const lines = b.subarray(0, end).toString("latin1").split("\r\n");
  const [, code, ...reason] = lines[0]!.split(" ");
  const status = Number(code);
  const headers: Record<string, string> = {};
  for (const l of lines.slice(1)) headers[l.slice(0, l.indexOf(":")).toLowerCase()] = l.slice(l.indexOf(":") + 1).trim();
  const answer = (body: Buffer, rest: Buffer): Answer => ({ status, reason: reason.join(" "), headers, body, rest });
  const after = b.subarray(end + 4);
  if (bodyless || status === 204 || status === 304 || status === 101) return answer(Buffer.alloc(0), after);
  if (headers["content-length"] !== undefined) {
    const n = Number(headers["content-length"]);
    return after.length >= n ? answer(after.subarray(0, n), after.subarray(n)) : null;
  }
  if (headers["transfer-encoding"] === "chunked") {
    const parts: Buffer[] = [];
    let i = 0;
    for (;;) {
      const nl = after.indexOf("\r\n", i);
      if (nl < 0) return null;
      const size = parseInt(after.subarray(i, nl).toString(), 16);
      if (after.length < nl + 2 + size + 2) return null;
      if (size === 0) return answer(Buffer.concat(parts), after.subarray(nl + 4));
      parts.push(after.subarray(nl + 2, nl + 2 + size));
      i = nl + 2 + size + 2;
    }
  }
  return closed ? answer(after, Buffer.alloc(0)) : null;
}

/** The first `n` answers on `t`, once they are complete. */
export function answers(t: Talk, n: number, o: { bodyless?: number[] } = {}): Promise<Answer[]> {
  return until<Answer[] | null>(() => {
    const out: Answer[] = [];
    let b = t.got();
    while (out.length < n) {
      const a = answerIn(b, t.closed(), o.bodyless?.includes(out.length));
      if (!a) return null;
      out.push(a);
      b = a.rest;
    }
    return out;
  }, `${n} answers`) as Promise<Answer[]>;
}
