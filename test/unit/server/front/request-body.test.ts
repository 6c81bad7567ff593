import { describe, expect, test } from "bun:test";
import { ChunkedDecoder, LengthDecoder, RequestBody, type BodyDecoder } from "../../../../src/server/front/request-body.ts";
import type { Conn } from "../../../../src/server/front/conn.ts";
import { BodyFramingError, ClientGoneError, ReadTimeoutError } from "../../../../src/server/errors.ts";
import { until } from "../../../helpers/daemon.ts";

/** Feeds `wire` to a decoder in pieces of `step` bytes; what it took of each piece, its output, and the rest. */
function run(d: BodyDecoder, wire: string, step: number): { body: string; rest: string } {
  const out: Buffer[] = [];
  let rest = "";
  const bytes = Buffer.from(wire, "latin1");
  for (let i = 0; i < bytes.length; i += step) {
    const piece = bytes.subarray(i, i + step);
    if (d.done) {
      rest += piece.toString("latin1");
      continue;
    }
    const used = d.feed(piece, (c) => out.push(Buffer.from(c)));
    rest += piece.subarray(used).toString("latin1");
  }
  return { body: Buffer.concat(out).toString("latin1"), rest };
}

const steps = [1, 2, 3, 5, 7, 64, 4096];

describe("Content-Length bodies", () => {
  test("exactly the length, whatever the packets; the rest is the next request's", () => {
    for (const step of steps) {
      const d = new LengthDecoder(5);
      expect(run(d, "helloGET / HTTP/1.1\r\n\r\n", step)).toEqual({ body: "hello", rest: "GET / HTTP/1.1\r\n\r\n" });
      expect(d.done).toBe(true);
    }
  });
});

describe("chunked bodies", () => {
  const wire = "5;name=value\r\nhello\r\n6\r\n world\r\nA\r\n0123456789\r\n0;last\r\nX-Trailer: 1\r\nY: 2\r\n\r\nPOST /next HTTP/1.1\r\n\r\n";

  test("extensions and trailers, split across packets anywhere; pipelined bytes left", () => {
    for (const step of steps) {
      const d = new ChunkedDecoder();
      expect(run(d, wire, step)).toEqual({ body: "hello world0123456789", rest: "POST /next HTTP/1.1\r\n\r\n" });
      expect(d.done).toBe(true);
    }
  });

  test("bare LF line ends; upper and lower case sizes", () => {
    const d = new ChunkedDecoder();
    expect(run(d, "a\n0123456789\nB\r\nabcdefghijk\r\n0\n\n", 3)).toEqual({ body: "0123456789abcdefghijk", rest: "" });
    expect(d.done).toBe(true);
  });

  test("not done before the last chunk's empty line", () => {
    const d = new ChunkedDecoder();
    run(d, "3\r\nabc\r\n0\r\n", 1);
    expect(d.done).toBe(false);
    run(d, "\r\n", 1);
    expect(d.done).toBe(true);
  });

  test("broken framing fails with Go's words", () => {
    const cases: [string, string][] = [
      ["zz\r\n", "invalid byte in chunk length"],
      ["\r\n", "empty hex number for chunk length"],
      ["3\r\nabcX\r\n", "malformed chunked encoding"],
      ["fffffffffffffffff\r\n", "http chunk length too large"],
      ["1" + ";x".repeat(3000) + "\r\n", "header line too long"],
      ["1".padEnd(5000, " "), "header line too long"],
    ];
    for (const [w, message] of cases) {
      const d = new ChunkedDecoder();
      expect(() => run(d, w, 4096)).toThrow(new BodyFramingError(message));
    }
  });

  test("too many trailer bytes fail", () => {
    const d = new ChunkedDecoder();
    const trailers = Array.from({ length: 40 }, (_, i) => `X-${i}: ${"t".repeat(2000)}\r\n`).join("");
    expect(() => run(d, `0\r\n${trailers}\r\n`, 4096)).toThrow(new BodyFramingError("chunked encoding contains too much non-data"));
  });
});

describe("the body as the route's stream", () => {
  /** A connection that records what the body asked of it. */
  function fakeConn() {
    const c = { paused: false, destroyed: false, pauses: 0 };
    const conn = {
      pause: () => {
        c.paused = true;
        c.pauses++;
      },
      resume: () => (c.paused = false),
      destroy: () => (c.destroyed = true),
    } as unknown as Conn;
    return { c, conn };
  }
  const piece = (n: number) => Buffer.alloc(n, 0x62);

  test("the socket pauses once the stream holds its 4 chunks, and resumes when the route reads", async () => {
    const { c, conn } = fakeConn();
    const body = new RequestBody(new LengthDecoder(1000), conn, 60_000, true);
    for (let i = 0; i < 3; i++) body.feed(piece(10));
    expect(c.paused).toBe(false);
    body.feed(piece(10));
    expect(c.paused).toBe(true);
    const reader = body.stream!.getReader();
    expect((await reader.read()).value!.length).toBe(10);
    expect(c.paused).toBe(false);
    body.discard();
  });

  test("the end as framed closes the stream; the rest of the bytes are not the body's", async () => {
    const { conn } = fakeConn();
    const body = new RequestBody(new LengthDecoder(5), conn, 60_000, true);
    expect(body.feed(Buffer.from("abcdefgh"))).toBe(5);
    expect(body.done).toBe(true);
    expect(await new Response(body.stream).text()).toBe("abcde");
  });

  test("a client gone before the end fails the read with ClientGoneError", async () => {
    const { conn } = fakeConn();
    const body = new RequestBody(new LengthDecoder(5), conn, 60_000, true);
    body.feed(Buffer.from("ab"));
    body.clientGone("connection closed");
    await expect(new Response(body.stream).text()).rejects.toBeInstanceOf(ClientGoneError);
  });

  test("a silent client times out: ReadTimeoutError, and the connection is dropped", async () => {
    const { c, conn } = fakeConn();
    const body = new RequestBody(new LengthDecoder(5), conn, 20, true);
    await expect(new Response(body.stream).text()).rejects.toBeInstanceOf(ReadTimeoutError);
    await until(() => c.destroyed, "the connection dropped");
  });

  test("broken framing fails the read with the framing error and marks the body broken", async () => {
    const { conn } = fakeConn();
    const body = new RequestBody(new ChunkedDecoder(), conn, 60_000, true);
    body.feed(Buffer.from("3\r\nabc\r\nzz\r\n"));
    expect(body.broken).toBe(true);
    await expect(new Response(body.stream).text()).rejects.toThrow("invalid byte in chunk length");
  });

  test("GET and HEAD bodies (keep = false) are read and dropped: no stream", () => {
    const { conn } = fakeConn();
    const body = new RequestBody(new LengthDecoder(3), conn, 60_000, false);
    expect(body.stream).toBeUndefined();
    expect(body.feed(Buffer.from("abcd"))).toBe(3);
    expect(body.done).toBe(true);
  });
});
