import { describe, expect, test } from "bun:test";
import { headEnd, MAX_HEAD_BYTES, parseHead, type HeadResult } from "../../../../src/server/front/head-parser.ts";

const parseRaw = (s: string): HeadResult => parseHead(Buffer.from(s, "latin1"));
/** HTTP/1.1 heads need a Host: one is put first where the case has none. */
const parse = (s: string): HeadResult => parseRaw(/\nhost:/i.test(s) ? s : s.replace(/^([^\n]*HTTP\/1\.1\r?\n)/, "$1Host: h\r\n"));
const head = (s: string) => {
  const r = parse(s);
  if (r.kind !== "head") throw new Error(`expected a head, got ${JSON.stringify(r)}`);
  return r.head;
};
const error = (s: string) => {
  const r = parse(s);
  if (r.kind !== "error") throw new Error(`expected an error, got ${JSON.stringify(r)}`);
  return r.error;
};

describe("request head", () => {
  test("request line, fields in order with duplicates, size of the head", () => {
    const s = "POST /v1.51/containers/create?name=a HTTP/1.1\r\nHost: x\r\nX-A: 1\r\nx-a: 2\r\nContent-Length: 2\r\n\r\n{}";
    expect(parse(s)).toEqual({
      kind: "head",
      size: s.length - 2,
      head: {
        method: "POST",
        target: "/v1.51/containers/create?name=a",
        minor: 1,
        headers: [["Host", "x"], ["X-A", "1"], ["x-a", "2"], ["Content-Length", "2"]],
        framing: { kind: "length", length: 2 },
        keepAlive: true,
        upgrade: false,
        expectContinue: false,
      },
    });
  });

  test("Expect: 100-continue on HTTP/1.1 only", () => {
    expect(head("POST / HTTP/1.1\r\nExpect: 100-Continue\r\nContent-Length: 3\r\n\r\n").expectContinue).toBe(true);
    expect(head("POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n").expectContinue).toBe(false);
    expect(head("POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\n").expectContinue).toBe(false);
  });

  test("bare LF line ends, as Go's reader takes them; values trimmed; empty value kept", () => {
    expect(head("GET / HTTP/1.1\nHost:   x \t\nX-E:\n\n").headers).toEqual([["Host", "x"], ["X-E", ""]]);
  });

  test("a folded line joins the field before it with one space (Go)", () => {
    expect(head("GET / HTTP/1.1\r\nX-A: a\r\n  b\r\n\tc\r\n\r\n").headers).toEqual([["Host", "h"], ["X-A", "a b c"]]);
    expect(parseRaw("GET / HTTP/1.1\r\n b\r\nHost: h\r\n\r\n")).toEqual({ kind: "error", error: { status: 400, text: "Bad Request" } });
  });

  test("incomplete until the empty line, however the bytes are cut", () => {
    const s = "GET /_ping HTTP/1.1\r\nHost: x\r\n\r\n";
    for (let i = 0; i < s.length; i++) expect(parse(s.slice(0, i)).kind).toBe("incomplete");
    expect(parse(s).kind).toBe("head");
    expect(headEnd(Buffer.from(s + "GET"))).toBe(s.length);
    // A search resumed 3 bytes before where the last one stopped (as the connection does) finds the same end.
    for (let cut = 0; cut <= s.length; cut++) expect(headEnd(Buffer.from(s), Math.max(0, cut - 3))).toBe(s.length);
    expect(headEnd(Buffer.from(s), s.length - 2)).toBe(-1);
  });

  test("targets: absolute-form to its path, * for OPTIONS only, other forms and broken escapes refused (Go)", () => {
    expect(head("GET http://x:1/v1.51/_ping?a=%20 HTTP/1.1\r\n\r\n").target).toBe("/v1.51/_ping?a=%20");
    expect(head("OPTIONS * HTTP/1.1\r\n\r\n").target).toBe("*");
    for (const bad of ["GET * HTTP/1.1", "GET foo HTTP/1.1", "GET /%zz HTTP/1.1", "GET /a%2 HTTP/1.1", "GET http://[ HTTP/1.1"]) {
      expect(error(`${bad}\r\n\r\n`)).toEqual({ status: 400, text: "Bad Request" });
    }
  });

  test("keep-alive: HTTP/1.1 unless Connection: close; HTTP/1.0 never (as node:http in Bun answered)", () => {
    expect(head("GET / HTTP/1.1\r\n\r\n").keepAlive).toBe(true);
    expect(head("GET / HTTP/1.1\r\nConnection: Keep-Alive, Close\r\n\r\n").keepAlive).toBe(false);
    expect(head("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")).toMatchObject({ minor: 0, keepAlive: false });
  });

  test("upgrade: Connection: Upgrade with an Upgrade field", () => {
    expect(head("POST /exec/x/start HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n").upgrade).toBe(true);
    expect(head("POST /exec/x/start HTTP/1.1\r\nConnection: keep-alive, upgrade\r\nupgrade: tcp\r\n\r\n").upgrade).toBe(true);
    expect(head("POST /exec/x/start HTTP/1.1\r\nConnection: Upgrade\r\n\r\n").upgrade).toBe(false);
    expect(head("POST /exec/x/start HTTP/1.1\r\nUpgrade: tcp\r\n\r\n").upgrade).toBe(false);
  });

  test("framing: chunked wins over a length; lengths must agree and be digits", () => {
    expect(head("POST / HTTP/1.1\r\nTransfer-Encoding: Chunked\r\nContent-Length: 5\r\n\r\n").framing).toEqual({ kind: "chunked" });
    expect(head("POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n").framing).toEqual({ kind: "length", length: 5 });
    expect(head("POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n").framing).toEqual({ kind: "none" });
    expect(head("POST / HTTP/1.1\r\n\r\n").framing).toEqual({ kind: "none" });
    // Go reads Transfer-Encoding from HTTP/1.1 only.
    expect(head("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n").framing).toEqual({ kind: "length", length: 3 });
    for (const bad of ["Content-Length: 2\r\nContent-Length: 3", "Content-Length: abc", "Content-Length: -1", "Content-Length: 1e3", "Content-Length: 99999999999999999999"]) {
      expect(error(`POST / HTTP/1.1\r\n${bad}\r\n\r\n`)).toEqual({ status: 400, text: "Bad Request" });
    }
  });

  test("codings other than chunked: 501 with Go's body", () => {
    const e = { status: 501, text: "Not Implemented", body: "Unsupported transfer encoding" };
    expect(error("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n")).toEqual(e);
    expect(error("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n")).toEqual(e);
    expect(error("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n")).toEqual(e);
  });

  test("bad heads get Go's answers", () => {
    const plain = { status: 400, text: "Bad Request" };
    expect(error("HELLO\r\n\r\n")).toEqual(plain);
    expect(error("GET /a b HTTP/1.1\r\n\r\n")).toEqual(plain);
    expect(error("G(T / HTTP/1.1\r\n\r\n")).toEqual(plain);
    expect(error("GET / HTTP/1.x\r\n\r\n")).toEqual(plain);
    expect(error("GET / HTTP/1.1\r\nnocolon\r\n\r\n")).toEqual(plain);
    expect(error("GET / HTTP/1.1\r\nBad Header: y\r\n\r\n")).toEqual({ status: 400, text: "Bad Request: invalid header name" });
    expect(error("GET / HTTP/1.1\r\nName : y\r\n\r\n")).toEqual({ status: 400, text: "Bad Request: invalid header name" });
    expect(error("GET / HTTP/1.1\r\nX: a\x01b\r\n\r\n")).toEqual({ status: 400, text: "Bad Request: invalid header value" });
    expect(error("GET / HTTP/2.0\r\n\r\n")).toEqual({ status: 505, text: "HTTP Version Not Supported: unsupported protocol version" });
    expect(parseRaw("GET / HTTP/1.1\r\n\r\n")).toEqual({ kind: "error", error: { status: 400, text: "Bad Request: missing required Host header" } });
    expect(error("GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n")).toEqual(plain);
    expect(head("GET / HTTP/1.0\r\n\r\n").minor).toBe(0); // HTTP/1.0 needs no Host
    // A field with an empty name is skipped, as Go's textproto does.
    expect(head("GET / HTTP/1.1\r\n: v\r\nA: b\r\n\r\n").headers).toEqual([["Host", "h"], ["A", "b"]]);
  });

  test("a head over Go's 1 MiB + 4096 is 431, complete or not; one just under is fine", () => {
    const start = "GET / HTTP/1.1\r\nHost: h\r\nX-Big: ";
    const tooLarge: HeadResult = { kind: "error", error: { status: 431, text: "Request Header Fields Too Large" } };
    expect(parse(start + "a".repeat(MAX_HEAD_BYTES))).toEqual(tooLarge);
    expect(parse(start + "a".repeat(MAX_HEAD_BYTES) + "\r\n\r\n")).toEqual(tooLarge);
    expect(parse(start + "a".repeat(MAX_HEAD_BYTES - start.length - 4) + "\r\n\r\n").kind).toBe("head");
  });
});
