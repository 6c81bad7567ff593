// The daemon's HTTP/1.1 front over a real unix socket, spoken to in raw bytes:
// a small Hono app behind httpFront + listenOn, as the daemon serves its API.
// No root needed. Every wait is a poll with a deadline or an event.
import { afterAll, beforeAll, describe, expect, spyOn, test } from "bun:test";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { readFileSync } from "node:fs";
import { Hono } from "hono";
import { httpFront, type ApiEnv } from "../../../src/server/http.ts";
import { listenOn, type Listener } from "../../../src/server/listen.ts";
import { acceptHijack } from "../../../src/server/hijack.ts";
import { markStreaming } from "../../../src/server/stream.ts";
import { pushStream } from "../../../src/server/push-stream.ts";
import { onError } from "../../../src/server/errors.ts";
import { removeScratch, scratchDir } from "../../helpers/tmp.ts";
import { until } from "../../helpers/daemon.ts";
import { freePort } from "../../helpers/registry.ts";
import { answerIn, answers, talk } from "../../helpers/raw-http.ts";

const events: string[] = [];
let release: (() => void) | null = null;
let streamAborted = false;
let refusedBodies = 0;

function app(): Hono<{ Bindings: ApiEnv }> {
  const a = new Hono<{ Bindings: ApiEnv }>();
  a.onError(onError); // the daemon's: errors as {"message"}
  a.get("/hello", (c) => c.text("hi"));
  a.get("/empty", (c) => c.body(null, 204));
  a.post("/echo", async (c) => {
    const body = Buffer.from(await c.req.arrayBuffer());
    return c.json({ length: body.length, text: body.length < 100 ? body.toString() : undefined, sha: createHash("sha256").update(body).digest("hex") });
  });
  // Reads its body slowly, one chunk per turn of the event loop (the socket must pause meanwhile).
  a.post("/slow-echo", async (c) => {
    const hash = createHash("sha256");
    let length = 0;
    for await (const chunk of c.req.raw.body!) {
      hash.update(chunk);
      length += chunk.length;
      await new Promise((r) => setImmediate(r));
    }
    return c.json({ length, sha: hash.digest("hex") });
  });
  a.get("/wait", async (c) => {
    events.push("wait: start");
    await new Promise<void>((r) => (release = r));
    events.push("wait: answered");
    return c.text("waited");
  });
  a.get("/count", (c) => c.text(c.req.query("i") ?? ""));
  // Answers far larger than the socket's buffers: written in parts as the client drains them.
  a.get("/big", () => new Response(pattern(8 * 1024 * 1024)));
  a.get("/big-stream", (c) => {
    const out = pushStream();
    void (async () => {
      const whole = pattern(16 * 1024 * 1024);
      for (let at = 0; at < whole.length; at += 1024 * 1024) {
        const wait = out.write(whole.subarray(at, at + 1024 * 1024));
        if (wait) await wait;
      }
      out.close();
    })();
    return markStreaming(new Response(out.body));
  });
  a.get("/after", (c) => {
    events.push("after");
    return c.text("after");
  });
  // A 413 without reading the body, as a JSON cap does.
  a.post("/refuse", (c) => {
    refusedBodies++;
    return c.json({ message: "too large" }, 413);
  });
  a.get("/stream", (c) => {
    const out = pushStream();
    const signal = c.req.raw.signal;
    signal.addEventListener("abort", () => (streamAborted = true));
    void (async () => {
      for (let i = 0; !signal.aborted && !out.isClosed(); i++) {
        const wait = out.write(new TextEncoder().encode(`line ${i}\n`));
        if (wait) await wait;
        else await new Promise((r) => setImmediate(r));
      }
    })();
    return markStreaming(new Response(out.body, { headers: { "content-type": "text/plain" } }));
  });
  a.get("/lines", (c) => {
    const out = pushStream();
    for (let i = 0; i < 3; i++) out.write(new TextEncoder().encode(`line ${i}\n`));
    out.close();
    return markStreaming(new Response(out.body, { headers: { "content-type": "text/plain" } }));
  });
  // The attach/exec shape: hijack, echo stdin upper-cased, "bye" and end once stdin ends.
  a.post("/hijack", async (c) => {
    const h = c.env.hijack;
    if (!h) return c.json({ message: "not an upgrade" }, 400);
    const body = (await c.req.json()) as { greeting: string };
    const conn = acceptHijack(h, { "Content-Type": "application/vnd.docker.raw-stream", Connection: "Upgrade", Upgrade: "tcp" });
    void conn.write(new TextEncoder().encode(`${body.greeting}:`));
    conn.input!.on("data", (d: Buffer) => void conn.write(new TextEncoder().encode(d.toString().toUpperCase())));
    conn.input!.on("end", () => {
      void conn.write(new TextEncoder().encode("bye"));
      conn.end();
    });
    return new Response(null, { headers: { "x-ctr-hijacked": "1" } });
  });
  return a;
}

/** Bytes that show where they were cut or reordered. */
function pattern(n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i += 4) b.writeUInt32LE(i, i);
  return b;
}

const get = (path: string, extra = "") => `GET ${path} HTTP/1.1\r\nHost: x\r\n${extra}\r\n`;

describe("HTTP/1.1 front over a unix socket", () => {
  let dir: string;
  let sock: string;
  let listener: Listener;
  beforeAll(async () => {
    dir = scratchDir("ctr-front-");
    sock = join(dir, "api.sock");
    listener = await listenOn(httpFront(app(), { readIdleMs: 60_000 }), `unix://${sock}`);
  });
  afterAll(async () => {
    await listener?.close();
    removeScratch();
  });

  test("keep-alive: two requests on one connection, both answered, the connection stays", async () => {
    const t = await talk(sock);
    t.write(get("/hello"));
    const [a] = await answers(t, 1);
    expect(a!.status).toBe(200);
    expect(a!.body.toString()).toBe("hi");
    expect(a!.headers).toMatchObject({ "content-length": "2", connection: "keep-alive", "keep-alive": "timeout=30" });
    expect(a!.headers.date).toBeDefined();
    t.write(get("/hello"));
    const both = await answers(t, 2);
    expect(both[1]!.body.toString()).toBe("hi");
    expect(t.closed()).toBe(false);
    t.destroy();
  });

  test("pipelined requests are served one after the other and answered in order", async () => {
    events.length = 0;
    const t = await talk(sock);
    const post = `POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello`;
    t.write(get("/wait") + post + get("/after") + "\r\n" + get("/hello", "Connection: close\r\n"));
    await until(() => release, "the first request to reach its route");
    expect(events).toEqual(["wait: start"]); // the rest wait in the buffer
    release!();
    release = null;
    const [w, e, af, h] = await answers(t, 4);
    expect([w!.body.toString(), JSON.parse(e!.body.toString()).text, af!.body.toString(), h!.body.toString()]).toEqual(["waited", "hello", "after", "hi"]);
    expect(events).toEqual(["wait: start", "wait: answered", "after"]);
    expect(h!.headers.connection).toBe("close");
    await until(() => t.closed(), "the close after Connection: close");
  });

  test("more pipelined requests than the buffer holds: each answered once, in order", async () => {
    const t = await talk(sock);
    const n = 300;
    const pad = "p".repeat(5000); // 300 × 5 KB: past the 1 MiB the front buffers before it pauses the socket
    t.write(Array.from({ length: n }, (_, i) => get(`/count?i=${i}`, `X-Pad: ${pad}\r\n`)).join(""));
    const got = await answers(t, n);
    expect(got.map((a) => a.body.toString())).toEqual(Array.from({ length: n }, (_, i) => String(i)));
    expect(got.at(-1)!.rest.length).toBe(0);
    t.destroy();
  });

  test("Expect: 100-continue gets the 100 before the client sends its body", async () => {
    const t = await talk(sock);
    t.write("POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
    await until(() => t.got().includes("\r\n\r\n"), "the 100");
    expect(t.got().toString()).toBe("HTTP/1.1 100 Continue\r\n\r\n");
    t.write("hello");
    await until(() => answerIn(t.got().subarray(25)), "the answer");
    expect(JSON.parse(answerIn(t.got().subarray(25))!.body.toString()).text).toBe("hello");
    t.destroy();
  });

  test("a head split into single bytes, and CRLF before a request line, are fine", async () => {
    const t = await talk(sock);
    const bytes = "\r\n" + get("/hello");
    for (const ch of bytes) {
      t.write(ch);
      await new Promise((r) => setImmediate(r));
    }
    const [a] = await answers(t, 1);
    expect(a!.body.toString()).toBe("hi");
    t.destroy();
  });

  test("HTTP/1.0: a length, Connection: close and the close; a streamed answer is close-delimited, not chunked", async () => {
    const t = await talk(sock);
    t.write("GET /hello HTTP/1.0\r\n\r\n");
    await until(() => t.closed(), "the close after an HTTP/1.0 answer");
    const a = answerIn(t.got(), true)!;
    expect([a.status, a.headers.connection, a.body.toString()]).toEqual([200, "close", "hi"]);
    const s = await talk(sock);
    s.write("GET /lines HTTP/1.0\r\n\r\n");
    await until(() => s.closed(), "the end of a close-delimited answer");
    const l = answerIn(s.got(), true)!;
    expect(l.headers["transfer-encoding"]).toBeUndefined();
    expect(l.body.toString()).toBe("line 0\nline 1\nline 2\n");
  });

  test("streamed answers are chunked on HTTP/1.1, and the connection goes on", async () => {
    const t = await talk(sock);
    t.write(get("/lines") + get("/hello"));
    const [l, h] = await answers(t, 2);
    expect(l!.headers["transfer-encoding"]).toBe("chunked");
    expect(l!.body.toString()).toBe("line 0\nline 1\nline 2\n");
    expect(h!.body.toString()).toBe("hi");
    t.destroy();
  });

  test("HEAD: the head with no body, and the next answer right after it; 204 has neither length nor body", async () => {
    const t = await talk(sock);
    t.write(`HEAD /hello HTTP/1.1\r\nHost: x\r\n\r\n` + get("/empty") + get("/hello"));
    const [head, empty, hello] = await answers(t, 3, { bodyless: [0] });
    expect([head!.status, head!.headers["content-length"], head!.rest.subarray(0, 8).toString()]).toEqual([200, "0", "HTTP/1.1"]);
    expect([empty!.status, empty!.headers["content-length"]]).toEqual([204, undefined]);
    expect(hello!.body.toString()).toBe("hi");
    t.destroy();
  });

  test("a chunked upload read slowly arrives whole (the socket pauses while the route's stream is full)", async () => {
    const t = await talk(sock);
    const payload = Buffer.alloc(8 * 1024 * 1024);
    for (let i = 0; i < payload.length; i += 4) payload.writeUInt32LE((i * 2654435761) >>> 0, i);
    t.write("POST /slow-echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
    // Chunks of uneven sizes, with an extension, then a trailer.
    let at = 0;
    for (let n = 1; at < payload.length; n = (n * 7 + 13) % 200_000) {
      const piece = payload.subarray(at, at + n);
      at += piece.length;
      t.write(Buffer.concat([Buffer.from(`${piece.length.toString(16)};x=y\r\n`), piece, Buffer.from("\r\n")]));
    }
    t.write("0\r\nX-Trailer: 1\r\n\r\n");
    const [a] = await answers(t, 1);
    expect(JSON.parse(a!.body.toString())).toEqual({ length: payload.length, sha: createHash("sha256").update(payload).digest("hex") });
    t.destroy();
  });

  test("answers larger than the socket holds arrive whole: with a length, and streamed (chunked), on one connection", async () => {
    const t = await talk(sock);
    t.write(get("/big") + get("/big-stream") + get("/hello"));
    const [big, streamed, hello] = await answers(t, 3);
    expect(big!.body.equals(pattern(8 * 1024 * 1024))).toBe(true);
    expect(streamed!.headers["transfer-encoding"]).toBe("chunked");
    expect(streamed!.body.equals(pattern(16 * 1024 * 1024))).toBe(true);
    expect(hello!.body.toString()).toBe("hi");
    t.destroy();
  });

  test("a client gone mid-answer aborts the route's signal", async () => {
    streamAborted = false;
    const t = await talk(sock);
    t.write(get("/stream"));
    await until(() => t.got().includes("line 3"), "the stream to flow");
    t.destroy();
    await until(() => streamAborted, "the route's abort signal");
  });

  test("a body the route left unread: the answer, the rest dropped, then the close", async () => {
    const before = refusedBodies;
    const t = await talk(sock);
    const body = Buffer.alloc(4 * 1024 * 1024, 0x61);
    t.write(`POST /refuse HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n`);
    t.write(body);
    t.write(get("/hello")); // never served: the connection does not outlive an unread body
    await until(() => t.closed(), "the close after an unread body");
    const a = answerIn(t.got(), true)!;
    expect([a.status, a.headers.connection, JSON.parse(a.body.toString())]).toEqual([413, "close", { message: "too large" }]);
    expect(a.rest.length).toBe(0);
    expect(refusedBodies).toBe(before + 1);
  });

  test("a chunked body with a broken chunk fails the route's read; the connection closes; no stack trace is logged", async () => {
    // The daemon's onError logs a 500 of its own with its stack; the client's broken framing gets one line.
    const stacks = spyOn(console, "error");
    try {
      const t = await talk(sock);
      t.write("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\nzz\r\n");
      await until(() => t.closed(), "the close after broken framing");
      const a = answerIn(t.got(), true)!;
      expect([a.status, a.headers.connection, JSON.parse(a.body.toString())]).toEqual([500, "close", { message: "invalid byte in chunk length" }]);
      expect(stacks).not.toHaveBeenCalled();
    } finally {
      stacks.mockRestore();
    }
  });

  test("a bad head gets Go's 400 and the close; an oversized one 431", async () => {
    const t = await talk(sock);
    t.write("GET / HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n");
    await until(() => t.closed(), "the close after a bad head");
    expect(t.got().toString()).toBe("HTTP/1.1 400 Bad Request: invalid header name\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n400 Bad Request: invalid header name");
    const big = await talk(sock);
    big.write("GET / HTTP/1.1\r\nX-Big: " + "a".repeat(1100 * 1024));
    await until(() => big.closed(), "the close after an oversized head");
    expect(big.got().toString()).toBe("HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n431 Request Header Fields Too Large");
  });

  test("upgrade: the body by its length, early stdin after it, output after the client's half-close", async () => {
    const t = await talk(sock);
    const json = JSON.stringify({ greeting: "hello" });
    t.write(`POST /hijack HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Type: application/json\r\nContent-Length: ${json.length}\r\n\r\n${json}early `);
    await until(() => t.got().includes("\r\n\r\n"), "the 101 head");
    expect(t.got().toString().split("\r\n")[0]).toBe("HTTP/1.1 101 UPGRADED");
    t.write("more");
    await until(() => t.got().includes("MORE"), "stdin echoed");
    t.end(); // stdin ends; output must still come
    await until(() => t.closed(), "the daemon's end of the conversation");
    const out = t.got().toString();
    expect(out.slice(out.indexOf("\r\n\r\n") + 4)).toBe("hello:EARLY MOREbye");
  });

  test("upgrade not taken by the route: a plain answer and the close", async () => {
    const t = await talk(sock);
    t.write(`GET /hello HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n`);
    await until(() => t.closed(), "the close after a plain answer to an upgrade");
    const a = answerIn(t.got(), true)!;
    expect([a.status, a.headers.connection, a.body.toString()]).toEqual([200, "close", "hi"]);
  });
});

const haveOpenssl = Bun.which("openssl") !== null;
if (!haveOpenssl) console.warn("skip: HTTP front over TLS: needs openssl");

// tcp:// is served by node:tls into the same front: the conversations that matter, once more over TLS.
describe.skipIf(!haveOpenssl)("HTTP/1.1 front over TLS (node:tls sockets as Conn)", () => {
  let listener: Listener;
  let port: number;
  beforeAll(async () => {
    const dir = scratchDir("ctr-front-tls-");
    const r = Bun.spawnSync(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "k.pem", "-out", "c.pem", "-days", "1", "-subj", "/CN=127.0.0.1"], { cwd: dir, stderr: "pipe" });
    if (r.exitCode !== 0) throw new Error(r.stderr.toString());
    port = await freePort();
    const tls = { cert: readFileSync(join(dir, "c.pem"), "utf8"), key: readFileSync(join(dir, "k.pem"), "utf8"), verify: false };
    const warn = console.warn;
    console.warn = () => {}; // the daemon's loud warning about TLS without --tlsverify
    try {
      listener = await listenOn(httpFront(app(), { readIdleMs: 60_000 }), `tcp://127.0.0.1:${port}`, { tls });
    } finally {
      console.warn = warn;
    }
  });
  afterAll(async () => {
    await listener?.close();
    removeScratch();
  });

  test("keep-alive and a chunked upload", async () => {
    const t = await talk({ tlsPort: port });
    const payload = Buffer.alloc(1024 * 1024, 0x7a);
    t.write(get("/hello") + "POST /slow-echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
    for (let at = 0; at < payload.length; at += 50_000) {
      const piece = payload.subarray(at, at + 50_000);
      t.write(Buffer.concat([Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from("\r\n")]));
    }
    t.write("0\r\n\r\n");
    const [h, e] = await answers(t, 2);
    expect(h!.body.toString()).toBe("hi");
    expect(JSON.parse(e!.body.toString())).toEqual({ length: payload.length, sha: createHash("sha256").update(payload).digest("hex") });
    t.destroy();
  });

  test("upgrade with early stdin and half-close", async () => {
    const t = await talk({ tlsPort: port });
    const json = JSON.stringify({ greeting: "tls" });
    t.write(`POST /hijack HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Type: application/json\r\nContent-Length: ${json.length}\r\n\r\n${json}early `);
    await until(() => t.got().includes("EARLY"), "early stdin echoed");
    t.write("more");
    await until(() => t.got().includes("MORE"), "stdin echoed");
    t.end();
    await until(() => t.closed(), "the end of the conversation");
    const out = t.got().toString();
    expect(out.slice(out.indexOf("\r\n\r\n") + 4)).toBe("tls:EARLY MOREbye");
  });
});
