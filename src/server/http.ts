import http, { type IncomingMessage, type ServerResponse } from "node:http";
import https from "node:https";
import type { Duplex } from "node:stream";
import { isStreaming, STREAM_HEADER } from "./stream.ts";
import { HIJACKED_HEADER, type Hijackable } from "./hijack.ts";
import { ClientGoneError, ReadTimeoutError } from "./errors.ts";
import { MAX_JSON_BODY, READ_IDLE_MS } from "./limits.ts";
import { drainedOrClosed } from "../drained.ts";

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
  tls?: TlsOptions;
  /** How long a request body may stay silent (while we want its bytes) before the request is dropped. */
  readIdleMs?: number;
}

/**
 * Serves a fetch-style app (Hono) on node:http. node:http rather than
 * Bun.serve because its `upgrade` event hands us the raw socket that attach
 * and exec need, with half-close intact.
 *
 * No request is buffered here: bodies reach routes as streams with
 * backpressure (routes cap JSON, uploads go to disk), a silent body times out,
 * and a body a route left unread is never drained (the connection closes).
 */
export function createHttpServer(app: FetchApp, o: HttpOptions = {}): http.Server {
  const idle = o.readIdleMs ?? READ_IDLE_MS;
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    void handle(app, req, res, idle);
  };
  const server = o.tls
    ? https.createServer({ cert: o.tls.cert, key: o.tls.key, ca: o.tls.ca, requestCert: !!o.tls.verify, rejectUnauthorized: !!o.tls.verify }, onRequest)
    : http.createServer(onRequest);
  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    void handleUpgrade(app, req, socket, head, idle);
  });
  server.keepAliveTimeout = 30_000;
  // A client that never finishes its headers holds a socket, not memory; still, let it go.
  server.headersTimeout = 60_000;
  return server;
}

async function handle(app: FetchApp, req: IncomingMessage, res: ServerResponse, idleMs: number): Promise<void> {
  const abort = new AbortController();
  res.on("close", () => {
    if (!res.writableFinished) abort.abort();
  });
  const hasBody = req.method !== "GET" && req.method !== "HEAD";
  const body = hasBody ? bodyOf(req, idleMs) : undefined;
  const request = new Request(`http://localhost${req.url ?? "/"}`, {
    method: req.method,
    headers: headersOf(req),
    body: body?.stream,
    signal: abort.signal,
    duplex: "half", // streamed request bodies (image loads, archive uploads)
  } as RequestInit & { duplex: "half" });
  let response: Response;
  try {
    response = await app.fetch(request, {});
  } catch (e) {
    response = Response.json({ message: (e as Error).message }, { status: 500 });
  }
  await writeResponse(req, res, response, abort.signal);
  if (!req.complete) {
    body?.discard();
    if (res.writableFinished) linger(req);
    else res.once("finish", () => linger(req));
  }
}

/** How long the rest of an unread body is read and dropped after the answer. */
const LINGER_MS = 2_000;

/**
 * A body the route did not read to its end (a 413, a GET with a body, a 2 GB
 * Content-Length) is never kept: the connection closes after the answer. What
 * the client still sends is read and dropped for a moment first, so the close
 * does not reset the connection before the client has read the answer (Go's
 * net/http does the same).
 */
function linger(req: IncomingMessage): void {
  const done = () => req.socket?.destroy();
  const t = setTimeout(done, LINGER_MS);
  req.once("end", () => {
    clearTimeout(t);
    done();
  });
  req.once("close", () => clearTimeout(t));
  req.resume();
}

async function writeResponse(req: IncomingMessage, res: ServerResponse, r: Response, signal: AbortSignal): Promise<void> {
  const headers: Record<string, string> = {};
  r.headers.forEach((v, k) => (headers[k] = v));
  delete headers[STREAM_HEADER];
  if (!isStreaming(r) || !r.body) {
    const buf = Buffer.from(await r.arrayBuffer());
    if (r.status !== 204 && r.status !== 304) headers["content-length"] = String(buf.length);
    res.writeHead(r.status, headers);
    res.end(buf);
    return;
  }
  res.writeHead(r.status, headers);
  res.flushHeaders();
  const reader = r.body.getReader();
  signal.addEventListener("abort", () => void reader.cancel().catch(() => {}), { once: true });
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (!res.write(value)) await drainedOrClosed(res);
    }
  } catch {
    // client went away
  }
  res.end();
}

async function handleUpgrade(app: FetchApp, req: IncomingMessage, socket: Duplex, head: Buffer, idleMs: number) {
  socket.on("error", () => {});
  // Upgrade bodies are small JSON (exec start, attach): never read more than a JSON body may hold,
  // and nothing at all for GET (a ping with `Connection: Upgrade` and a 64 MB body is still a ping).
  const declared = Number(req.headers["content-length"] ?? 0);
  const wantsBody = req.method !== "GET" && req.method !== "HEAD";
  const len = wantsBody && Number.isFinite(declared) && declared > 0 ? declared : 0;
  if (len > MAX_JSON_BODY) {
    return answerRaw(socket, Response.json({ message: `request body too large: ${len} bytes, at most ${MAX_JSON_BODY} for this request` }, { status: 413 }));
  }
  const read = await readExactly(req, socket, head, len, idleMs);
  if (!read) return void socket.destroy();
  const { body, rest } = read;
  const hijack: Hijackable = { socket, rest, taken: false, fd: socketFd(socket) };
  const abort = new AbortController();
  socket.once("close", () => abort.abort());
  const request = new Request(`http://localhost${req.url ?? "/"}`, {
    method: req.method,
    headers: headersOf(req),
    body: wantsBody ? body : undefined,
    signal: abort.signal,
  });
  let response: Response;
  try {
    response = await app.fetch(request, { hijack });
  } catch (e) {
    response = Response.json({ message: (e as Error).message }, { status: 500 });
  }
  if (hijack.taken || response.headers.get(HIJACKED_HEADER)) return;
  // The route did not hijack (an error, most often): answer in plain HTTP/1.1.
  await answerRaw(socket, response);
}

/** A plain HTTP/1.1 answer on an upgrade socket, then the connection closes (what the client sent after is not read). */
async function answerRaw(socket: Duplex, response: Response): Promise<void> {
  const buf = Buffer.from(await response.arrayBuffer());
  const lines = [`HTTP/1.1 ${response.status} ${http.STATUS_CODES[response.status] ?? ""}`];
  response.headers.forEach((v, k) => lines.push(`${k}: ${v}`));
  lines.push(`content-length: ${buf.length}`, "connection: close");
  socket.end(Buffer.concat([Buffer.from(lines.join("\r\n") + "\r\n\r\n"), buf]));
  // As linger(): drop what still comes for a moment, so the client reads the answer before the close.
  const t = setTimeout(() => socket.destroy(), LINGER_MS);
  socket.once("end", () => {
    clearTimeout(t);
    socket.destroy();
  });
  socket.resume();
}

/**
 * The body of an upgrade request (exec start's JSON). Node leaves it on the
 * socket (or in `head`); Bun's node:http hands it to `req` as data. Take
 * whichever arrives, up to Content-Length; later socket bytes are stdin.
 * Null when the client goes silent for `idleMs` or away.
 */
function readExactly(req: IncomingMessage, socket: Duplex, head: Buffer, n: number, idleMs: number): Promise<{ body: Buffer; rest: Buffer } | null> {
  if (head.length >= n) return Promise.resolve({ body: head.subarray(0, n), rest: head.subarray(n) });
  return new Promise((resolve) => {
    const chunks = [head];
    let size = head.length;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const finish = (v: { body: Buffer; rest: Buffer } | null) => {
      clearTimeout(timer);
      socket.off("data", onData);
      req.off("data", onData);
      socket.off("close", onClose);
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
      socket.pause();
      const buf = Buffer.concat(chunks);
      finish({ body: buf.subarray(0, n), rest: buf.subarray(n) });
    };
    const onClose = () => finish(null);
    req.on("data", onData);
    socket.on("data", onData);
    socket.once("close", onClose);
    arm();
    socket.resume(); // an upgraded socket may start paused
  });
}

/** node:net sockets (see listen.ts) expose their descriptor on the handle; Bun's HTTP sockets do not. */
function socketFd(socket: Duplex): number | undefined {
  const fd = (socket as { _handle?: { fd?: unknown } | null })._handle?.fd;
  return typeof fd === "number" && fd >= 0 ? fd : undefined;
}

function headersOf(req: IncomingMessage): Headers {
  const h = new Headers();
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) h.append(raw[i]!, raw[i + 1]!);
  return h;
}

/**
 * The request body as a web stream, with backpressure (image loads are big).
 * While we want bytes and none come for `idleMs`, the request is dropped; a
 * client that goes away mid-body ends the stream with ClientGoneError, which
 * the error handler logs in one line.
 */
function bodyOf(req: IncomingMessage, idleMs: number): { stream: ReadableStream<Uint8Array>; discard(): void } {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let settled = false;
  const stop = () => clearTimeout(timer);
  const arm = () => {
    stop();
    timer = setTimeout(() => req.destroy(new ReadTimeoutError(`no request body received for ${idleMs / 1000} s`)), idleMs);
  };
  const stream = new ReadableStream<Uint8Array>(
    {
      start(ctrl) {
        const fail = (e: Error) => {
          stop();
          if (settled) return;
          settled = true;
          ctrl.error(e instanceof ReadTimeoutError ? e : new ClientGoneError(`the client went away during the request body (${e.message})`));
        };
        req.on("data", (chunk: Buffer) => {
          if (settled) return;
          ctrl.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length)); // a view, not a copy
          if ((ctrl.desiredSize ?? 1) <= 0) {
            stop(); // our consumer is slow, not the client
            req.pause();
            // On a connection node:net accepted (listen.ts) pausing the request does not reach the socket.
            req.socket?.pause();
          } else arm();
        });
        req.on("end", () => {
          stop();
          if (settled) return;
          settled = true;
          ctrl.close();
        });
        req.on("error", fail);
        req.on("close", () => {
          if (!req.complete) fail(new Error("connection closed"));
        });
        arm();
      },
      pull() {
        if (!settled && !req.complete) arm();
        req.resume();
        req.socket?.resume();
      },
      cancel() {
        // The route read enough (a 413 on a JSON cap): the answer still has to reach the client, so
        // the connection is not cut here; linger() drops the rest after the answer.
        stop();
        settled = true;
      },
    },
    { highWaterMark: 4 },
  );
  // After the answer, what still arrives is dropped, not queued.
  const discard = () => {
    stop();
    settled = true;
  };
  return { stream, discard };
}
