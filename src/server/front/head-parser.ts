// An HTTP/1.1 request head (RFC 9112 §2–§6), parsed as Go's net/http does for
// dockerd: the same limit and the same refusals, so a client sees the answers
// it would see from dockerd.

/** How the request's body is framed (RFC 9112 §6.3). */
export type Framing = { kind: "none" } | { kind: "length"; length: number } | { kind: "chunked" };

export interface RequestHead {
  method: string;
  /** Path and query (absolute-form reduced to them), or `*` (OPTIONS). */
  target: string;
  /** 0 for HTTP/1.0, 1 for HTTP/1.1. */
  minor: number;
  /** Field lines in order, duplicates kept (Headers.append). */
  headers: [string, string][];
  framing: Framing;
  /** The client allows another request on this connection. */
  keepAlive: boolean;
  /** `Connection: Upgrade` with an `Upgrade` field (attach, exec start). */
  upgrade: boolean;
  /** `Expect: 100-continue` on HTTP/1.1: the client waits for a 100 before its body. */
  expectContinue: boolean;
}

/** A refusal of the head: the status and text of Go's answer (net/http server.go). */
export interface HeadError {
  status: number;
  /** Go's status text, with its detail when Go gives one ("Bad Request: invalid header name"). */
  text: string;
  /** The answer's body when it is not the status line's text (501's). */
  body?: string;
}

export type HeadResult = { kind: "incomplete" } | { kind: "error"; error: HeadError } | { kind: "head"; head: RequestHead; size: number };

/** Go's http.DefaultMaxHeaderBytes (1 MiB), plus the 4096 bytes of slack its reader allows. */
export const MAX_HEAD_BYTES = (1 << 20) + 4096;

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// Field values: visible characters, spaces and tabs, obs-text (Go's httpguts.ValidHeaderFieldValue).
const BAD_VALUE = /[\x00-\x08\x0a-\x1f\x7f]/;
const REQUEST_LINE = /^([^ ]+) ([^ ]+) (HTTP\/(\d)\.(\d))$/;

const badRequest = (detail?: string): HeadResult => ({ kind: "error", error: { status: 400, text: detail ? `Bad Request: ${detail}` : "Bad Request" } });

/**
 * Where the head in `buf` ends (the byte after its empty line), or -1. Lines may
 * end in CRLF or a bare LF, as Go's textproto reader takes them. `from` lets a
 * caller that got more bytes skip what it already searched.
 */
export function headEnd(buf: Uint8Array, from = 0): number {
  for (let i = buf.indexOf(10, from); i >= 0; i = buf.indexOf(10, i + 1)) {
    if (buf[i + 1] === 10) return i + 2;
    if (buf[i + 1] === 13 && buf[i + 2] === 10) return i + 3;
  }
  return -1;
}

/** Parses the head at the start of `buf` (leading empty lines already skipped). */
export function parseHead(buf: Buffer, from = 0): HeadResult {
  const end = headEnd(buf, from);
  if (end < 0) return buf.length > MAX_HEAD_BYTES ? tooLarge() : { kind: "incomplete" };
  if (end > MAX_HEAD_BYTES) return tooLarge();
  const lines = buf.toString("latin1", 0, end).split("\n");
  lines.length -= 2; // the empty line and what follows its LF
  for (let i = 0; i < lines.length; i++) if (lines[i]!.endsWith("\r")) lines[i] = lines[i]!.slice(0, -1);
  const m = REQUEST_LINE.exec(lines[0]!);
  if (!m || !TOKEN.test(m[1]!)) return badRequest();
  if (m[4] !== "1") return { kind: "error", error: { status: 505, text: "HTTP Version Not Supported: unsupported protocol version" } };
  const target = requestTarget(m[1]!, m[2]!);
  if (target === null) return badRequest();
  const headers: [string, string][] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line[0] === " " || line[0] === "\t") {
      // obs-fold: Go joins a continuation line to the field before it with one space.
      const last = headers[headers.length - 1];
      if (!last) return badRequest();
      last[1] = `${last[1]} ${trimSpaces(line)}`.trim();
      continue;
    }
    const colon = line.indexOf(":");
    if (colon < 0) return badRequest();
    if (colon === 0) continue; // Go skips a field with an empty name
    headers.push([line.slice(0, colon), trimSpaces(line.slice(colon + 1))]);
  }
  // One pass over the fields for what framing and the connection need (see the JIT note in conn.ts).
  const minor = Number(m[5]);
  let hosts = 0;
  let badName = false;
  let badValue = false;
  let upgradeField = false;
  let expectContinue = false;
  const te: string[] = [];
  const lens: string[] = [];
  let connection = "";
  for (const [k, v] of headers) {
    if (!TOKEN.test(k)) badName = true;
    else if (BAD_VALUE.test(v)) badValue = true;
    switch (k.length > 17 ? "" : k.toLowerCase()) {
      case "host":
        hosts++;
        break;
      case "content-length":
        lens.push(v);
        break;
      case "transfer-encoding":
        te.push(v);
        break;
      case "connection":
        connection += `,${v.toLowerCase()}`;
        break;
      case "upgrade":
        upgradeField = true;
        break;
      case "expect":
        expectContinue = v.toLowerCase() === "100-continue";
        break;
    }
  }
  const framing = framingOf(te, lens, minor);
  if ("status" in framing) return { kind: "error", error: framing };
  // RFC 9112 §3.2: an HTTP/1.1 request has exactly one Host (Go's checks, in its order).
  if (minor >= 1 && hosts === 0) return badRequest("missing required Host header");
  if (hosts > 1) return badRequest();
  if (badName) return badRequest("invalid header name");
  if (badValue) return badRequest("invalid header value");
  const conn = connection ? connection.split(",").map((t) => t.trim()) : [];
  return {
    kind: "head",
    size: end,
    head: {
      method: m[1]!,
      target,
      minor,
      headers,
      framing,
      // HTTP/1.0 closes after each answer, as the daemon's node:http front did (even with keep-alive asked).
      keepAlive: minor >= 1 && !conn.includes("close"),
      upgrade: upgradeField && conn.includes("upgrade"),
      expectContinue: expectContinue && minor >= 1,
    },
  };
}

/**
 * The target as a path and query (RFC 9112 §3.2): origin-form as it is, absolute-form reduced to its path
 * (Go routes `GET http://host/_ping`), `*` for OPTIONS (asterisk-form); else null, as Go refuses it (400):
 * any other form, or a broken percent-escape.
 */
function requestTarget(method: string, t: string): string | null {
  if (t[0] !== "/") {
    if (t === "*") return method === "OPTIONS" ? t : null;
    if (!/^https?:\/\//i.test(t)) return null;
    try {
      const u = new URL(t);
      t = u.pathname + u.search;
    } catch {
      return null;
    }
  }
  return t.includes("%") && /%(?![0-9a-fA-F]{2})/.test(t) ? null : t;
}

/** Go trims spaces and tabs around a field value (not other whitespace). */
function trimSpaces(v: string): string {
  const a = v.charCodeAt(0);
  const z = v.charCodeAt(v.length - 1);
  return a === 32 || a === 9 || z === 32 || z === 9 ? v.replace(/^[ \t]+|[ \t]+$/g, "") : v;
}

const tooLarge = (): HeadResult => ({ kind: "error", error: { status: 431, text: "Request Header Fields Too Large" } });

/** RFC 9112 §6.3 as Go applies it: chunked wins over a length; any other coding is 501. */
function framingOf(te: string[], lens: string[], minor: number): Framing | HeadError {
  // Go reads Transfer-Encoding from HTTP/1.1 requests only.
  if (te.length && minor >= 1) {
    if (te.length > 1 || te[0]!.toLowerCase() !== "chunked") return { status: 501, text: "Not Implemented", body: "Unsupported transfer encoding" };
    return { kind: "chunked" };
  }
  if (!lens.length) return { kind: "none" };
  const first = lens[0]!.trim();
  if (lens.some((l) => l.trim() !== first)) return { status: 400, text: "Bad Request" };
  if (first === "") return { kind: "none" };
  if (!/^\d+$/.test(first) || !Number.isSafeInteger(Number(first))) return { status: 400, text: "Bad Request" };
  const length = Number(first);
  return length === 0 ? { kind: "none" } : { kind: "length", length };
}
