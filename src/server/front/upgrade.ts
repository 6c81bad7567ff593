// Requests with `Connection: Upgrade` (attach, exec start, run's conversation):
// the app gets the connection to hijack; if it does not, a plain answer and close.
import type { Conn } from "./conn.ts";
import type { RequestHead } from "./head-parser.ts";
import { rawAnswer } from "./answer.ts";
import { lingerClose } from "./linger.ts";
import type { FetchApp } from "../http.ts";
import { HIJACKED_HEADER, type Hijackable } from "../hijack.ts";
import { MAX_JSON_BODY } from "../limits.ts";

/**
 * Serves an upgrade request whose head was read; `buffered` holds the bytes
 * after it. The connection arrives paused, with no listeners of the HTTP front.
 * Upgrade bodies are small JSON (exec start, attach): at most a JSON body's cap
 * is read, by Content-Length, and nothing for GET (a ping with `Connection:
 * Upgrade` and a 64 MB body is still a ping); what follows is early stdin.
 */
export async function serveUpgrade(conn: Conn, head: RequestHead, buffered: Buffer, app: FetchApp, idleMs: number, fd: number | undefined): Promise<void> {
  conn.on("error", () => {});
  const wantsBody = head.method !== "GET" && head.method !== "HEAD";
  const len = wantsBody && head.framing.kind === "length" ? head.framing.length : 0;
  if (len > MAX_JSON_BODY) {
    const answer = Response.json({ message: `request body too large: ${len} bytes, at most ${MAX_JSON_BODY} for this request` }, { status: 413 });
    return closeWith(conn, await rawAnswer(answer));
  }
  const read = await readExactly(conn, buffered, len, idleMs);
  if (!read) return void conn.destroy();
  const hijack: Hijackable = { socket: conn, rest: read.rest, taken: false, fd };
  const abort = new AbortController();
  conn.once("close", () => abort.abort());
  let response: Response;
  try {
    const request = new Request(`http://localhost${head.target}`, {
      method: head.method,
      headers: head.headers,
      body: wantsBody ? read.body : undefined,
      signal: abort.signal,
    });
    response = await app.fetch(request, { hijack });
  } catch (e) {
    response = Response.json({ message: (e as Error).message }, { status: 500 });
  }
  if (hijack.taken || response.headers.get(HIJACKED_HEADER)) return;
  // The route did not hijack (an error, most often): a plain HTTP/1.1 answer, then close
  // (what the client sent after is not read).
  closeWith(conn, await rawAnswer(response));
}

function closeWith(conn: Conn, answer: Buffer): void {
  if (conn.destroyed) return;
  conn.write(answer);
  lingerClose(conn, { end: true });
}

/**
 * The first `n` bytes after the head (the body), and what came after them.
 * Null when the client goes silent for `idleMs` or away. Leaves the connection paused.
 */
function readExactly(conn: Conn, buffered: Buffer, n: number, idleMs: number): Promise<{ body: Buffer; rest: Buffer } | null> {
  if (buffered.length >= n) return Promise.resolve({ body: buffered.subarray(0, n), rest: buffered.subarray(n) });
  return new Promise((resolve) => {
    const chunks = [buffered];
    let size = buffered.length;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const finish = (v: { body: Buffer; rest: Buffer } | null) => {
      clearTimeout(timer);
      conn.pause();
      conn.off("data", onData);
      conn.off("close", onGone);
      conn.off("end", onGone);
      resolve(v);
    };
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => finish(null), idleMs);
    };
    const onData = (d: Buffer) => {
      chunks.push(d);
      size += d.length;
      arm();
      if (size < n) return;
      const buf = Buffer.concat(chunks);
      finish({ body: buf.subarray(0, n), rest: buf.subarray(n) });
    };
    const onGone = () => finish(null);
    conn.on("data", onData);
    conn.once("close", onGone);
    conn.once("end", onGone);
    arm();
    conn.resume();
  });
}
