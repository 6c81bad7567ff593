// One request must never exhaust the box: hostile requests sent through a real
// socket to a test daemon, the daemon's memory read from /proc before and after.
// Bounded, not timed: every wait is a poll with a deadline.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import net from "node:net";
import { readFileSync } from "node:fs";
import { isRoot, startDaemon, until, type TestDaemon } from "../../helpers/daemon.ts";
import { haveRegistry, seedBusybox, startRegistry, type RunningRegistry } from "../../helpers/registry.ts";
import { buildTar } from "../layers/tar-build.ts";

setDefaultTimeout(120_000);
const skip = !isRoot ? "needs root to start a daemon" : !haveRegistry ? "needs docker-registry (scripts/setup-debian.sh)" : undefined;
if (skip) console.warn(`skip: bounded requests: ${skip}`);

const MB = 1024 * 1024;
/**
 * What one request may add to the daemon's RSS beyond the data it keeps: the
 * JavaScript heap grows by up to ~25 MB of garbage before a collection, however
 * large the upload (measured: 48, 96 and 192 MB archive PUTs all end within it),
 * so bodies are sent at 2-3 times this to show they are not held.
 */
const ALLOWANCE = 32 * MB;

function rss(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(m![1]) * 1024;
}

interface RawAnswer {
  status: number;
  head: string;
  body: string;
  /** The daemon closed the connection. */
  closed: boolean;
}

/**
 * Sends a request head and `bodyBytes` of body in 64 KiB chunks (stopping when
 * the daemon closes), then waits for the daemon's answer and its close. With
 * `stall`, sends `bodyBytes` and then nothing, waiting for the daemon to give up.
 */
function rawRequest(sock: string, head: string, body: number | Buffer = 0, o: { abortAfter?: number } = {}): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const s = net.connect(sock);
    let got = Buffer.alloc(0);
    let closed = false;
    const bytes = typeof body === "number" ? undefined : body;
    const bodyBytes = typeof body === "number" ? body : body.length;
    const filler = Buffer.alloc(64 * 1024, 0x61);
    const gone = new Promise((ok) => s.once("close", ok));
    s.on("data", (d: Buffer) => (got = Buffer.concat([got, d])));
    s.on("error", () => {});
    s.on("close", () => {
      closed = true;
      const text = got.toString("latin1");
      const i = text.indexOf("\r\n\r\n");
      resolve({ status: Number(/^HTTP\/1\.1 (\d+)/.exec(text)?.[1] ?? 0), head: text.slice(0, i), body: text.slice(i + 4), closed });
    });
    s.on("connect", async () => {
      s.write(head);
      let sent = 0;
      while (sent < bodyBytes && !closed && !s.destroyed) {
        const n = Math.min(filler.length, bodyBytes - sent);
        const piece = bytes ? bytes.subarray(sent, sent + n) : filler.subarray(0, n);
        sent += n;
        // A real client stops sending once the answer is there.
        if (got.length) break;
        if (!s.write(piece)) await Promise.race([new Promise((ok) => s.once("drain", ok)), gone]);
        if (o.abortAfter !== undefined && sent >= o.abortAfter) return void s.destroy();
      }
    });
  });
}

const req = (method: string, path: string, headers: Record<string, string | number>) =>
  `${method} ${path} HTTP/1.1\r\nHost: localhost\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join("")}\r\n`;

describe.skipIf(!!skip)("bounded requests (root)", () => {
  let reg: RunningRegistry;
  let d: TestDaemon;
  let container: string;
  let pid: number;
  beforeAll(async () => {
    reg = await startRegistry();
    const bb = await seedBusybox(reg.host);
    // A short read timeout, so a stalled body is dropped within the test's deadline.
    d = await startDaemon([], undefined, { env: { CTR_READ_TIMEOUT_MS: "1000" } });
    pid = d.proc.pid;
    await d.ctr(["pull", "-q", bb]);
    container = (await d.ctr(["create", bb, "true"])).stdout.trim();
    // Warm up: the first requests compile routes and grow the heap once.
    for (let i = 0; i < 5; i++) await rawRequest(d.sock, req("GET", "/_ping", { Connection: "close" }));
  });
  afterAll(async () => {
    await d?.[Symbol.asyncDispose]();
    await reg?.stop();
  });

  /** Runs a hostile request and answers it with the daemon's RSS growth. */
  async function grows(send: () => Promise<RawAnswer>): Promise<{ answer: RawAnswer; growth: number }> {
    const before = rss(pid);
    const answer = await send();
    const growth = rss(pid) - before;
    console.log(`  rss ${(before / MB).toFixed(1)} → ${((before + growth) / MB).toFixed(1)} MiB`);
    return { answer, growth };
  }

  test("Connection: Upgrade with a 64 MB body is refused unread (413) and memory stays put", async () => {
    const { answer, growth } = await grows(() =>
      rawRequest(d.sock, req("POST", `/v1.41/containers/${container}/attach?stream=1&stdout=1`, { Connection: "Upgrade", Upgrade: "tcp", "Content-Type": "application/json", "Content-Length": 64 * MB }), 64 * MB),
    );
    expect(answer.status).toBe(413);
    expect(answer.closed).toBe(true);
    expect(growth).toBeLessThan(ALLOWANCE);
  });

  test("GET /_ping with Connection: Upgrade and a 64 MB body answers OK without reading it", async () => {
    const { answer, growth } = await grows(() => rawRequest(d.sock, req("GET", "/_ping", { Connection: "Upgrade", Upgrade: "tcp", "Content-Length": 64 * MB }), 64 * MB));
    expect(answer.status).toBe(200);
    expect(answer.body).toBe("OK");
    expect(growth).toBeLessThan(ALLOWANCE);
  });

  test("GET /_ping with a 64 MB body: answered, the body is not drained, the connection closes", async () => {
    const { answer, growth } = await grows(() => rawRequest(d.sock, req("GET", "/_ping", { "Content-Length": 64 * MB }), 64 * MB));
    expect(answer.status).toBe(200);
    expect(answer.closed).toBe(true);
    expect(growth).toBeLessThan(ALLOWANCE);
  });

  test("JSON bodies are capped: a 2 GB Content-Length is refused at once, a chunked 64 MB body after 2 MiB", async () => {
    const declared = await grows(() => rawRequest(d.sock, req("POST", "/v1.41/containers/create", { "Content-Type": "application/json", "Content-Length": 2 * 1024 * MB }), 1024));
    expect(declared.answer.status).toBe(413);
    expect(JSON.parse(declared.answer.body).message).toContain("request body too large");
    expect(declared.growth).toBeLessThan(ALLOWANCE);
    // Without a Content-Length the cap applies to what arrives (chunked framing by hand: one 64 KiB chunk at a time).
    const chunked = await grows(
      () =>
        new Promise<RawAnswer>((resolve) => {
          const s = net.connect(d.sock);
          let got = "";
          s.on("data", (b: Buffer) => (got += b.toString("latin1")));
          s.on("error", () => {});
          s.on("close", () => resolve({ status: Number(/^HTTP\/1\.1 (\d+)/.exec(got)?.[1] ?? 0), head: got, body: got.slice(got.indexOf("\r\n\r\n") + 4), closed: true }));
          const gone = new Promise((ok) => s.once("close", ok));
          s.on("connect", async () => {
            s.write(req("POST", "/v1.41/volumes/create", { "Content-Type": "application/json", "Transfer-Encoding": "chunked" }));
            const piece = Buffer.concat([Buffer.from(`10000\r\n`), Buffer.alloc(0x10000, 0x20), Buffer.from("\r\n")]);
            for (let i = 0; i < 1024 && !s.destroyed && !got; i++) if (!s.write(piece)) await Promise.race([new Promise((ok) => s.once("drain", ok)), gone]);
          });
        }),
    );
    expect(chunked.answer.status).toBe(413);
    expect(chunked.growth).toBeLessThan(ALLOWANCE);
  });

  test("a 2 GB Content-Length with a short body does not wait forever: the read times out, the connection closes", async () => {
    for (const path of [`/v1.41/containers/${container}/archive?path=/tmp`, "/v1.41/images/load"]) {
      const { answer, growth } = await grows(() =>
        rawRequest(d.sock, req(path.includes("archive") ? "PUT" : "POST", path, { "Content-Type": "application/x-tar", "Content-Length": 2 * 1024 * MB }), 1024),
      );
      expect(answer.closed).toBe(true);
      expect(growth).toBeLessThan(ALLOWANCE);
    }
  });

  test("uploads stream to disk: a 96 MB file through archive PUT, image load and a build context costs no 96 MB of memory", async () => {
    const tar = await buildTar([{ name: "big.bin", body: "\0".repeat(96 * MB) }]);
    const put = await grows(() => d.client.request("PUT", `/containers/${container}/archive`, { query: { path: "/tmp" }, raw: { data: tar, contentType: "application/x-tar" } }).then(async (r) => ({ status: r.status, head: "", body: await r.text(), closed: false })));
    expect(put.answer.status).toBe(200);
    expect(put.growth).toBeLessThan(ALLOWANCE);
    const load = await grows(() =>
      fetch(d.client.url("/images/load"), { method: "POST", unix: d.sock, body: tar, headers: { "Content-Type": "application/x-tar" } } as RequestInit).then(async (r) => ({ status: r.status, head: "", body: await r.text(), closed: false })),
    );
    expect(load.answer.body).toContain("not an image archive");
    expect(load.growth).toBeLessThan(ALLOWANCE);
    const context = await buildTar([{ name: "Dockerfile", body: "FROM scratch\nLABEL bounded=yes\n" }, { name: "big.bin", body: "\0".repeat(96 * MB) }]);
    const build = await grows(() =>
      fetch(d.client.url("/build", { t: "bounded:1" }), { method: "POST", unix: d.sock, body: context, headers: { "Content-Type": "application/x-tar" } } as RequestInit).then(async (r) => ({ status: r.status, head: "", body: await r.text(), closed: false })),
    );
    expect(build.answer.body).toContain("Successfully tagged bounded:1");
    expect(build.growth).toBeLessThan(ALLOWANCE);
  });

  test("a client that aborts an upload costs one log line, no stack trace", async () => {
    const before = d.log().split("\n").length;
    // A real tar of one 32 MB file, cut off after 4 MB.
    const tar = await buildTar([{ name: "cut.bin", body: "\0".repeat(32 * MB) }]);
    await rawRequest(d.sock, req("PUT", `/v1.41/containers/${container}/archive?path=/tmp`, { "Content-Type": "application/x-tar", "Content-Length": tar.length }), tar, { abortAfter: 4 * MB });
    const added = await until(() => {
      const lines = d.log().split("\n").slice(before - 1).filter(Boolean);
      return lines.length ? lines : null;
    }, "the abort to be logged");
    // Give a stack trace the chance to follow, then look again.
    await d.client.ping();
    const after = d.log().split("\n").slice(before - 1).filter(Boolean);
    expect(after).toHaveLength(1);
    expect(after[0]).toContain("client went away");
    expect(after.join("\n")).not.toMatch(/^\s+at /m);
    expect(added?.length).toBe(1);
    expect(await d.client.ping()).toBe(true);
  });
});
