import { connectRaw, type RawSocket } from "./raw-socket.ts";
import { API_VERSION } from "../version.ts";
import { parseHost, type HostAddr } from "../hosts.ts";
import { ApiError, ConnectError } from "./errors.ts";

type BodyInit = NonNullable<RequestInit["body"]>;

/** Query values; an array repeats the key (Docker's `changes=…&changes=…`). */
export type Query = Record<string, string | number | boolean | string[] | undefined | null>;

export interface RequestOptions {
  query?: Query;
  body?: unknown;
  /** Raw body (tar uploads); sent as-is with this content type. */
  raw?: { data: BodyInit; contentType: string };
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

/** A raw, hijacked conversation with the daemon (attach, exec). */
export interface Hijacked {
  socket: RawSocket;
  /** Bytes that arrived with the 101 head. */
  head: Buffer;
  /** The 101's header lines, lower-cased names (`name: value`). */
  headers: Map<string, string>;
}

/**
 * The daemon's HTTP API client. The ctr CLI reaches the engine only through
 * this, exactly like the docker CLI does.
 */
export class ApiClient {
  readonly addr: HostAddr;
  private readonly base: string;
  /**
   * Called when connections find nobody listening before any has reached the
   * daemon: may start it (autostart.ts) or throw the error to show; the
   * request is then sent again. Asking first (a /_ping before every command)
   * cost each command a round trip (issue 16).
   */
  private unreachable?: () => Promise<void>;
  /** The one run of `unreachable` that requests refused at the same time all wait for. */
  private starting?: Promise<void>;

  constructor(readonly host: string, private readonly tlsOpts?: { ca?: string; cert?: string; key?: string }) {
    this.addr = parseHost(host);
    this.base = this.addr.kind === "unix" ? "http://localhost" : `https://${this.addr.host}:${this.addr.port}`;
  }

  /** See `unreachable`. */
  onUnreachable(f: () => Promise<void>): this {
    this.unreachable = f;
    return this;
  }

  /** Runs `connect`; when nobody listened and we may act on it, acts (once) and runs it again. */
  private async reaching<T>(connect: () => Promise<T>): Promise<T> {
    try {
      const r = await connect();
      this.unreachable = undefined; // the daemon is there: a refusal from now on is an error to show
      return r;
    } catch (e) {
      if (!neverConnected(e) || !this.mayAct()) throw e;
      await this.act();
      return connect();
    }
  }

  private mayAct(): boolean {
    return !!(this.unreachable || this.starting);
  }

  private act(): Promise<void> {
    if (!this.starting) {
      const f = this.unreachable!;
      this.unreachable = undefined;
      this.starting = f();
    }
    return this.starting;
  }

  url(path: string, query?: Query): string {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(query ?? {})) {
      if (Array.isArray(v)) for (const x of v) q.append(k, x);
      else if (v !== undefined && v !== null) q.set(k, String(v));
    }
    const qs = q.toString();
    return `${this.base}/v${API_VERSION}${path}${qs ? `?${qs}` : ""}`;
  }

  async request(method: string, path: string, opts: RequestOptions = {}): Promise<Response> {
    const headers: Record<string, string> = { ...opts.headers };
    let body: BodyInit | undefined;
    if (opts.raw) {
      body = opts.raw.data;
      headers["Content-Type"] = opts.raw.contentType;
    } else if (opts.body !== undefined) {
      body = JSON.stringify(opts.body);
      headers["Content-Type"] = "application/json";
    }
    // A stream is partly read by a refused fetch, so it cannot be sent again: make sure of the daemon first.
    if (body instanceof ReadableStream && this.mayAct() && !(await this.ping())) await this.act();
    const send = () =>
      fetch(this.url(path, opts.query), {
        method,
        headers,
        body,
        signal: opts.signal,
        ...(this.addr.kind === "unix" ? { unix: this.addr.path } : { tls: this.tlsOpts }),
      } as RequestInit);
    let res: Response;
    try {
      res = await this.reaching(send);
    } catch (e) {
      if ((e as Error).name === "AbortError" || e instanceof ConnectError) throw e;
      throw new ConnectError(`cannot connect to the ctr daemon at ${this.host}: ${(e as Error).message}. Is the daemon running?`);
    }
    if (res.status >= 400) throw new ApiError(res.status, await messageOf(res));
    return res;
  }

  async json<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const res = await this.request(method, path, opts);
    const text = await res.text();
    return (text ? JSON.parse(text) : undefined) as T;
  }

  async ping(): Promise<boolean> {
    try {
      const res = await fetch(`${this.base}/_ping`, {
        ...(this.addr.kind === "unix" ? { unix: this.addr.path } : { tls: this.tlsOpts }),
      } as RequestInit);
      return res.ok;
    } catch {
      return false;
    }
  }

  /** POSTs with `Upgrade: tcp` and returns the raw socket after the 101; any other answer is an ApiError. */
  async hijack(path: string, query: Query, body?: unknown): Promise<Hijacked> {
    const r = await this.upgrade(path, query, body);
    if ("socket" in r) return r;
    throw new ApiError(r.status, messageOfText(r.body) || `${r.status}`);
  }

  /**
   * POSTs with `Upgrade: tcp`: the raw socket after a 101, or the plain answer
   * (status and body) of a daemon that did not switch — ctr's create with run=
   * (server/routes/attach-run.ts) is a plain 201 on dockerd or an older ctr.
   */
  async upgrade(path: string, query: Query, body?: unknown): Promise<Hijacked | PlainAnswer> {
    const u = new URL(this.url(path, query));
    const payload = body === undefined ? "" : JSON.stringify(body);
    const head = [
      `POST ${u.pathname}${u.search} HTTP/1.1`,
      "Host: localhost",
      "Connection: Upgrade",
      "Upgrade: tcp",
      `Content-Type: ${body === undefined ? "text/plain" : "application/json"}`,
      `Content-Length: ${Buffer.byteLength(payload)}`,
      "",
      "",
    ].join("\r\n");
    let socket: RawSocket;
    try {
      socket = await this.reaching(() =>
        connectRaw(this.addr.kind === "unix" ? { unix: this.addr.path } : { hostname: this.addr.host, port: this.addr.port, tls: this.tlsOpts ?? true }),
      );
    } catch (e) {
      if (e instanceof ConnectError) throw e;
      throw new ConnectError(`cannot connect to the ctr daemon at ${this.host}: ${(e as Error).message}`);
    }
    return new Promise((resolve, reject) => {
      let buf = Buffer.alloc(0);
      let plain: { status: number; headers: Map<string, string>; at: number } | null = null;
      const finish = (closed: boolean) => {
        const body = plainBody(buf.subarray(plain!.at), plain!.headers, closed);
        if (body === null) return;
        socket.off("data", onData);
        socket.destroy();
        resolve({ status: plain!.status, headers: plain!.headers, body });
      };
      const onData = (d: Uint8Array) => {
        buf = Buffer.concat([buf, d]);
        if (plain) return finish(false);
        const end = buf.indexOf("\r\n\r\n");
        if (end < 0) return;
        const status = Number(/^HTTP\/1\.1 (\d+)/.exec(buf.subarray(0, end).toString())?.[1]);
        const headers = headerMap(buf.subarray(0, end).toString());
        if (status === 101) {
          socket.off("data", onData);
          socket.pause();
          return resolve({ socket, head: buf.subarray(end + 4), headers });
        }
        plain = { status, headers, at: end + 4 };
        finish(false);
      };
      socket.on("data", onData);
      socket.once("error", () => reject(new ConnectError(`connection to the ctr daemon at ${this.host} failed`)));
      socket.once("close", () => {
        if (plain) return finish(true);
        reject(new ConnectError(`the ctr daemon at ${this.host} closed the connection`));
      });
      socket.write(head + payload);
    });
  }
}

/** A daemon's answer to an upgrade request it did not switch. */
export interface PlainAnswer {
  status: number;
  headers: Map<string, string>;
  body: string;
}

/** The body once complete (Content-Length, chunked, or up to the close); null while more is due. */
function plainBody(b: Buffer, headers: Map<string, string>, closed: boolean): string | null {
  const length = headers.get("content-length");
  if (length !== undefined) return b.length >= Number(length) ? b.subarray(0, Number(length)).toString() : closed ? b.toString() : null;
  if (/chunked/i.test(headers.get("transfer-encoding") ?? "")) {
    const parts: Buffer[] = [];
    for (let at = 0; ; ) {
      const eol = b.indexOf("\r\n", at);
      if (eol < 0) return closed ? Buffer.concat(parts).toString() : null;
      const size = parseInt(b.subarray(at, eol).toString(), 16);
      if (size === 0) return Buffer.concat(parts).toString();
      if (!(size > 0) || b.length < eol + 2 + size + 2) return closed ? Buffer.concat(parts).toString() : null;
      parts.push(b.subarray(eol + 2, eol + 2 + size));
      at = eol + 2 + size + 2;
    }
  }
  return closed ? b.toString() : null;
}

/** Docker's {"message"} of an error body, or the body itself when it is not that JSON. */
export function messageOfText(text: string): string {
  try {
    return (JSON.parse(text) as { message?: string }).message ?? text;
  } catch {
    return text;
  }
}

function headerMap(head: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of head.split("\r\n").slice(1)) {
    const i = line.indexOf(":");
    if (i > 0) m.set(line.slice(0, i).trim().toLowerCase(), line.slice(i + 1).trim());
  }
  return m;
}

/** Nobody listened (no socket file, or refused): the request never reached a daemon, so sending it again is safe. */
function neverConnected(e: unknown): boolean {
  const code = (e as { code?: string } | null)?.code;
  return code === "ENOENT" || code === "ECONNREFUSED";
}

async function messageOf(res: Response): Promise<string> {
  return messageOfText(await res.text()) || `${res.status} ${res.statusText}`;
}
