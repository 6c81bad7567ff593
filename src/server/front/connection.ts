// One client connection speaking HTTP/1.1 to the fetch-style app: heads
// parsed as they complete, one request served at a time (pipelined requests
// wait in the buffer, so answers leave in order), keep-alive between them.
import type { Conn } from "./conn.ts";
import { MAX_HEAD_BYTES, parseHead, type HeadError, type RequestHead } from "./head-parser.ts";
import { decoderFor, RequestBody } from "./request-body.ts";
import { errorAnswer, KEEP_ALIVE_S, writeAnswer } from "./answer.ts";
import { lingerClose } from "./linger.ts";
import { serveUpgrade } from "./upgrade.ts";
import { unwatch, watch, type Expiring } from "./deadlines.ts";
import type { FetchApp } from "../http.ts";

export interface ServeOptions {
  /** How long a request body may stay silent while a route waits for it. */
  readIdleMs: number;
  /** The socket's descriptor, for the hijack's wait on the 101 head (unix sockets). */
  fd?: number;
}

/** A client that never finishes its head holds a socket, not memory; still, let it go. */
const HEADERS_TIMEOUT_MS = 60_000;
/** Unparsed bytes past which a client's pipelined requests wait (the socket pauses) until ours are answered. */
const MAX_BUFFERED = MAX_HEAD_BYTES;

const EMPTY = Buffer.alloc(0);
const CONTINUE = Buffer.from("HTTP/1.1 100 Continue\r\n\r\n");

export function serveConnection(conn: Conn, app: FetchApp, o: ServeOptions): void {
  new HttpConnection(conn, app, o).start();
}

class HttpConnection implements Expiring {
  /** Received bytes no request has taken yet. */
  private buf: Buffer = EMPTY;
  /** How much of `buf` was already searched for the end of a head. */
  private searched = 0;
  /** A request is being served: what comes now waits in `buf`. */
  private busy = false;
  /** No further request on this connection (closing, lingering or upgraded). */
  private finished = false;
  /** The body of the request being served, while it still takes bytes. */
  private body: RequestBody | null = null;
  private abort: AbortController | null = null;
  private peerEnded = false;
  /** Epoch ms at which the connection is dropped (Expiring); 0 = none. */
  deadline = 0;
  private waitingFor: "idle" | "head" | null = null;

  constructor(
    private readonly conn: Conn,
    private readonly app: FetchApp,
    private readonly o: ServeOptions,
  ) {}

  start(): void {
    this.conn.on("data", this.onData);
    this.conn.on("end", this.onEnd);
    this.conn.on("close", this.onClose);
    this.conn.on("error", ignore);
    watch(this);
    this.wait("idle");
  }

  private readonly onData = (d: Buffer): void => {
    if (this.finished) return;
    let rest = d;
    if (this.body) {
      rest = rest.subarray(this.body.feed(rest));
      if (this.body.done || this.body.broken) this.body = null;
      if (!rest.length) return;
    }
    this.buf = this.buf.length ? Buffer.concat([this.buf, rest]) : rest;
    if (!this.busy) this.next();
    else if (this.buf.length > MAX_BUFFERED) this.conn.pause();
  };

  /** The client half-closed: answer what it asked, then close. */
  private readonly onEnd = (): void => {
    this.peerEnded = true;
    this.body?.clientGone("connection ended");
    if (!this.busy && !this.finished) this.conn.destroy();
  };

  private readonly onClose = (): void => {
    this.finished = true;
    this.clearTimer();
    unwatch(this);
    this.abort?.abort();
    this.body?.clientGone("connection closed");
  };

  /** Takes the next request out of the buffer, if its head is complete. */
  private next(): void {
    // A resume() inside serve() may have handed over held bytes that started the next request already.
    if (this.busy || this.finished) return;
    // RFC 9112 §2.2: empty lines before a request line are ignored.
    let skip = 0;
    while (skip < this.buf.length && (this.buf[skip] === 13 || this.buf[skip] === 10)) skip++;
    if (skip) {
      this.buf = this.buf.subarray(skip);
      this.searched = 0;
    }
    if (!this.buf.length) return;
    const r = parseHead(this.buf, Math.max(0, this.searched - 3));
    if (r.kind === "incomplete") {
      this.searched = this.buf.length;
      if (this.waitingFor !== "head") this.wait("head");
      return;
    }
    this.clearTimer();
    if (r.kind === "error") return this.refuse(r.error);
    this.buf = this.buf.subarray(r.size);
    this.searched = 0;
    this.busy = true;
    if (r.head.upgrade) return this.upgrade(r.head);
    void this.serve(r.head);
  }

  private async serve(head: RequestHead): Promise<void> {
    const { conn } = this;
    const abort = (this.abort = new AbortController());
    // GET and HEAD bodies are read and dropped: routes never see them.
    const keepBody = head.method !== "GET" && head.method !== "HEAD";
    const body = head.framing.kind === "none" ? undefined : new RequestBody(decoderFor(head.framing), conn, this.o.readIdleMs, keepBody);
    if (body) {
      // curl and others wait (a second, for curl) for a 100 before sending a body; node:http sent it at once.
      if (head.expectContinue && keepBody) conn.write(CONTINUE);
      this.body = body;
      if (this.buf.length) this.buf = this.buf.subarray(body.feed(this.buf));
      if (body.done || body.broken) this.body = null;
      else if (this.peerEnded) body.clientGone("connection ended");
    }
    let response: Response;
    try {
      const request = new Request(`http://localhost${head.target === "*" ? "/" : head.target}`, {
        method: head.method,
        headers: head.headers,
        body: body?.stream,
        signal: abort.signal,
        duplex: "half", // streamed request bodies (image loads, archive uploads)
      } as RequestInit & { duplex: "half" });
      // `OPTIONS *` asks about the server, not a resource: Go's net/http answers it (200, no body) itself.
      response = head.target === "*" ? new Response(null) : await this.app.fetch(request, {});
    } catch (e) {
      response = Response.json({ message: (e as Error).message }, { status: 500 });
    }
    const unread = !!body && !body.done;
    const keepAlive = head.keepAlive && !unread && !this.peerEnded;
    await writeAnswer(conn, { method: head.method, minor: head.minor, keepAlive }, response, abort.signal);
    this.abort = null;
    if (conn.destroyed) return;
    if (unread) {
      // A body the route did not read to its end (a 413, a 2 GB Content-Length) is never
      // kept: dropped while it comes, then the connection closes.
      this.finish();
      body.discard();
      // A body whose framing the client broke holds nothing worth reading: half-close and go.
      if (body.broken) return lingerClose(conn, { end: true });
      return lingerClose(conn, { body: body.decoder });
    }
    if (!keepAlive) {
      this.finish();
      return lingerClose(conn, { end: true });
    }
    this.busy = false;
    this.wait("idle");
    conn.resume();
    this.next();
  }

  /** Hands the connection to the upgrade path (and, if a route takes it, to the hijack). */
  private upgrade(head: RequestHead): void {
    const buffered = this.buf;
    this.conn.pause();
    this.finish();
    void serveUpgrade(this.conn, head, buffered, this.app, this.o.readIdleMs, this.o.fd);
  }

  /** A head we refuse gets Go's answer, and the connection closes. */
  private refuse(e: HeadError): void {
    this.finish();
    this.conn.write(errorAnswer(e));
    lingerClose(this.conn, { end: true });
  }

  /** No more requests here: the HTTP front lets go of the connection. */
  private finish(): void {
    this.finished = true;
    this.clearTimer();
    unwatch(this);
    this.buf = EMPTY;
    this.conn.off("data", this.onData);
    this.conn.off("end", this.onEnd);
    this.conn.off("close", this.onClose);
  }

  /** Between requests the client has KEEP_ALIVE_S; once a head started, HEADERS_TIMEOUT_MS to finish it. */
  private wait(what: "idle" | "head"): void {
    this.waitingFor = what;
    this.deadline = Date.now() + (what === "idle" ? KEEP_ALIVE_S * 1000 : HEADERS_TIMEOUT_MS);
  }

  private clearTimer(): void {
    this.deadline = 0;
    this.waitingFor = null;
  }

  expired(): void {
    this.conn.destroy();
  }
}

function ignore(): void {}
