import http, { type IncomingMessage, type ServerResponse } from "node:http";
import https from "node:https";
import type { Duplex } from "node:stream";
import { isStreaming, STREAM_HEADER } from "./stream.ts";
import { HIJACKED_HEADER, type Hijackable } from "./hijack.ts";

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

/**
 * Serves a fetch-style app (Hono) on node:http. node:http rather than
 * Bun.serve because its `upgrade` event hands us the raw socket that attach
 * and exec need, with half-close intact.
 */
export function createHttpServer(app: FetchApp, tls?: TlsOptions): http.Server {
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    void handle(app, req, res);
  };
  const server = tls
    ? https.createServer({ cert: tls.cert, key: tls.key, ca: tls.ca, requestCert: !!tls.verify, rejectUnauthorized: !!tls.verify }, onRequest)
    : http.createServer(onRequest);
  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    void handleUpgrade(app, req, socket, head);
  });
  server.keepAliveTimeout = 30_000;
  return server;
}

async function handle(app: FetchApp, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const abort = new AbortController();
  res.on("close", () => {
    if (!res.writableFinished) abort.abort();
  });
  const hasBody = req.method !== "GET" && req.method !== "HEAD";
  const request = new Request(`http://localhost${req.url ?? "/"}`, {
    method: req.method,
    headers: headersOf(req),
    body: hasBody ? bodyOf(req) : undefined,
    signal: abort.signal,
    duplex: "half", // streamed request bodies (image loads, archive uploads)
  } as RequestInit & { duplex: "half" });
  let response: Response;
  try {
    response = await app.fetch(request, {});
  } catch (e) {
    response = Response.json({ message: (e as Error).message }, { status: 500 });
  }
  await writeResponse(res, response, abort.signal);
}

async function writeResponse(res: ServerResponse, r: Response, signal: AbortSignal): Promise<void> {
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
      if (!res.write(value)) await new Promise((ok) => res.once("drain", ok));
    }
  } catch {
    // client went away
  }
  res.end();
}

async function handleUpgrade(app: FetchApp, req: IncomingMessage, socket: Duplex, head: Buffer) {
  socket.on("error", () => {});
  const len = Number(req.headers["content-length"] ?? 0);
  const { body, rest } = await readExactly(req, socket, head, Number.isFinite(len) ? len : 0);
  const hijack: Hijackable = { socket, rest, taken: false };
  const abort = new AbortController();
  socket.once("close", () => abort.abort());
  const request = new Request(`http://localhost${req.url ?? "/"}`, {
    method: req.method,
    headers: headersOf(req),
    body: req.method !== "GET" && req.method !== "HEAD" ? body : undefined,
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
  const buf = Buffer.from(await response.arrayBuffer());
  const lines = [`HTTP/1.1 ${response.status} ${http.STATUS_CODES[response.status] ?? ""}`];
  response.headers.forEach((v, k) => lines.push(`${k}: ${v}`));
  lines.push(`content-length: ${buf.length}`, "connection: close");
  socket.end(Buffer.concat([Buffer.from(lines.join("\r\n") + "\r\n\r\n"), buf]));
}

/**
 * The body of an upgrade request (exec start's JSON). Node leaves it on the
 * socket (or in `head`); Bun's node:http hands it to `req` as data. Take
 * whichever arrives, up to Content-Length; later socket bytes are stdin.
 */
function readExactly(req: IncomingMessage, socket: Duplex, head: Buffer, n: number): Promise<{ body: Buffer; rest: Buffer }> {
  if (head.length >= n) return Promise.resolve({ body: head.subarray(0, n), rest: head.subarray(n) });
  return new Promise((resolve) => {
    let buf = head;
    const onData = (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length < n) return;
      socket.off("data", onData);
      req.off("data", onData);
      socket.pause();
      resolve({ body: buf.subarray(0, n), rest: buf.subarray(n) });
    };
    req.on("data", onData);
    socket.on("data", onData);
    socket.resume(); // an upgraded socket may start paused
  });
}

function headersOf(req: IncomingMessage): Headers {
  const h = new Headers();
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) h.append(raw[i]!, raw[i + 1]!);
  return h;
}

/** The request body as a web stream, with backpressure (image loads are big). */
function bodyOf(req: IncomingMessage): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(ctrl) {
      req.on("data", (chunk: Buffer) => {
        ctrl.enqueue(new Uint8Array(chunk));
        if ((ctrl.desiredSize ?? 1) <= 0) req.pause();
      });
      req.on("end", () => ctrl.close());
      req.on("error", (e) => ctrl.error(e));
    },
    pull() {
      req.resume();
    },
    cancel() {
      req.destroy();
    },
  }, { highWaterMark: 4 });
}
