// Writing a fetch Response as an HTTP/1.1 answer on a Conn: the head as the
// daemon's node:http front wrote it (so clients see the same fields), the body
// with a length, or chunked for streamed answers (RFC 9112 §7.1).
import type { Conn } from "./conn.ts";
import type { HeadError } from "./head-parser.ts";
import { isStreaming, STREAM_HEADER } from "../stream.ts";
import { drainedOrClosed } from "../../drained.ts";

export interface AnswerTo {
  method: string;
  /** 0 for HTTP/1.0: no chunked coding, the end of a streamed body is the close. */
  minor: number;
  /** Announce keep-alive (else `Connection: close`, and the caller closes). */
  keepAlive: boolean;
}

/** Seconds of idle keep-alive, announced as node:http did. */
export const KEEP_ALIVE_S = 30;

/**
 * Writes `r` and resolves once all of it went to the kernel, or the client left
 * (`signal` aborts then: a streamed body is cancelled).
 */
export async function writeAnswer(conn: Conn, to: AnswerTo, r: Response, signal: AbortSignal): Promise<void> {
  const streamed = isStreaming(r) && !!r.body && to.method !== "HEAD";
  if (!streamed) {
    const body = to.method === "HEAD" ? (void r.body?.cancel().catch(() => {}), EMPTY) : new Uint8Array(await r.arrayBuffer());
    // HEAD: the length of the body a GET would get is unknown here; node:http sent the empty body's 0.
    const length = r.status === 204 || r.status === 304 ? "" : `content-length: ${body.length}\r\n`;
    const head = Buffer.from(headOf(r, to, length), "latin1");
    await flushed(conn, conn.write(body.length ? Buffer.concat([head, body]) : head));
    return;
  }
  const chunked = to.minor >= 1;
  await flushed(conn, conn.write(Buffer.from(headOf(r, to, chunked ? "transfer-encoding: chunked\r\n" : ""), "latin1")));
  const reader = r.body!.getReader();
  const cancel = () => void reader.cancel().catch(() => {});
  if (signal.aborted) cancel();
  signal.addEventListener("abort", cancel, { once: true });
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (conn.destroyed) {
        cancel();
        break;
      }
      if (!value.length) continue; // an empty chunk would be the last-chunk
      const piece = chunked ? Buffer.concat([Buffer.from(`${value.length.toString(16)}\r\n`), value, CRLF]) : value;
      await flushed(conn, conn.write(piece));
    }
  } catch {
    // the producer failed or the client went away: end what was sent
  } finally {
    signal.removeEventListener("abort", cancel);
  }
  if (chunked && !conn.destroyed) await flushed(conn, conn.write(LAST_CHUNK));
}

/** After a write that returned `ok`: waits for the drain, unless there is none to wait for (the connection is gone). */
function flushed(conn: Conn, ok: boolean): Promise<void> | undefined {
  if (ok || conn.destroyed) return undefined;
  return drainedOrClosed(conn);
}

/**
 * An answer to a head we refused, in Go's words and shape (net/http answers
 * these before any handler runs), after which the connection closes.
 */
export function errorAnswer(e: HeadError): string {
  return `HTTP/1.1 ${e.status} ${e.text}\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n${e.body ?? `${e.status} ${e.text}`}`;
}

/** A plain answer on an upgrade request that was not hijacked, as node:http's upgrade path had us write it. */
export async function rawAnswer(r: Response): Promise<Buffer> {
  const buf = Buffer.from(await r.arrayBuffer());
  const lines = [`HTTP/1.1 ${r.status} ${statusText(r.status)}`];
  r.headers.forEach((v, k) => lines.push(`${k}: ${v}`));
  lines.push(`content-length: ${buf.length}`, "connection: close");
  return Buffer.concat([Buffer.from(lines.join("\r\n") + "\r\n\r\n"), buf]);
}

function headOf(r: Response, to: AnswerTo, framing: string): string {
  let head = `HTTP/1.1 ${r.status} ${statusText(r.status)}\r\n`;
  r.headers.forEach((v, k) => {
    if (k !== STREAM_HEADER) head += `${k}: ${v}\r\n`;
  });
  head += `${framing}Date: ${httpDate()}\r\n`;
  head += to.keepAlive ? `Connection: keep-alive\r\nKeep-Alive: timeout=${KEEP_ALIVE_S}\r\n\r\n` : "Connection: close\r\n\r\n";
  return head;
}

const EMPTY = new Uint8Array(0);
const CRLF = Buffer.from("\r\n");
const LAST_CHUNK = Buffer.from("0\r\n\r\n");

let dateSecond = 0;
let dateText = "";
/** The Date field (RFC 9110 §6.6.1), formatted once a second. */
function httpDate(): string {
  const now = Date.now();
  const s = Math.floor(now / 1000);
  if (s !== dateSecond) {
    dateSecond = s;
    dateText = new Date(now).toUTCString();
  }
  return dateText;
}

/** Reason phrases of the codes the API answers (RFC 9110 §15), as node:http's STATUS_CODES has them. */
const REASONS: Record<number, string> = {
  100: "Continue",
  101: "Switching Protocols",
  200: "OK",
  201: "Created",
  202: "Accepted",
  204: "No Content",
  206: "Partial Content",
  301: "Moved Permanently",
  302: "Found",
  304: "Not Modified",
  307: "Temporary Redirect",
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  406: "Not Acceptable",
  408: "Request Timeout",
  409: "Conflict",
  410: "Gone",
  411: "Length Required",
  412: "Precondition Failed",
  413: "Payload Too Large",
  415: "Unsupported Media Type",
  416: "Range Not Satisfiable",
  422: "Unprocessable Entity",
  429: "Too Many Requests",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  501: "Not Implemented",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
  505: "HTTP Version Not Supported",
};

export function statusText(status: number): string {
  return REASONS[status] ?? "";
}
