// `ctr run` against a daemon that knows neither ctr's create-with-run= nor the
// attach's run= (an older ctr): the create is answered as a plain 201, the
// attach's 101 lacks X-Ctr-Ends-With-Status, so the client must fall back to
// Docker's order — wait, then start — and still print the output and exit
// with the container's status. The daemon here is a stand-in that answers
// only what that older daemon would.
import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CLI, run } from "../../helpers/daemon.ts";

type Conn = { write(b: string | Uint8Array): void; end(): void };

/** stdcopy frame (Docker's multiplexed stream). */
const frame = (stream: number, text: string) => {
  const b = Buffer.from(text);
  const h = Buffer.alloc(8);
  h[0] = stream;
  h.writeUInt32BE(b.length, 4);
  return Buffer.concat([h, b]);
};
const plain = (status: string, body = "") => `HTTP/1.1 ${status}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;

function olderDaemon(sock: string) {
  const seen: string[] = [];
  let attached: Conn | null = null;
  let waiter: Conn | null = null;
  const handle = (s: Conn, line: string) => {
    const [method, url] = line.split(" ") as [string, string];
    const path = new URL(url, "http://x").pathname.replace(/^\/v[\d.]+/, "");
    seen.push(`${method} ${path}`);
    if (path === "/containers/create") return s.write(plain("201 Created", JSON.stringify({ Id: "c0ffee", Warnings: [] })));
    if (path === "/containers/c0ffee/attach") {
      attached = s;
      return s.write("HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.multiplexed-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n");
    }
    if (path === "/containers/c0ffee/wait") {
      waiter = s;
      return s.write("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n");
    }
    if (path === "/containers/c0ffee/start") {
      s.write(plain("204 No Content"));
      attached?.write(Buffer.concat([frame(1, "out\n"), frame(2, "err\n")]));
      attached?.end();
      const status = JSON.stringify({ StatusCode: 3, Error: null }) + "\n";
      waiter?.write(`${Buffer.byteLength(status).toString(16)}\r\n${status}\r\n0\r\n\r\n`);
      return;
    }
    s.write(plain("404 Not Found", JSON.stringify({ message: `page not found: ${path}` })));
  };
  const server = Bun.listen<{ buf: string; done: boolean }>({
    unix: sock,
    socket: {
      open(s) {
        s.data = { buf: "", done: false };
      },
      data(s, d) {
        if (s.data.done) return; // stdin after a hijack, or a second request: not needed here
        s.data.buf += Buffer.from(d).toString();
        const end = s.data.buf.indexOf("\r\n\r\n");
        if (end < 0) return;
        const length = Number(/content-length: (\d+)/i.exec(s.data.buf.slice(0, end))?.[1] ?? 0);
        if (s.data.buf.length < end + 4 + length) return;
        s.data.done = true;
        handle(s, s.data.buf.slice(0, s.data.buf.indexOf("\r\n")));
      },
    },
  });
  return { seen, stop: () => server.stop(true) };
}

describe("ctr run against a daemon without ctr's run conversation", () => {
  test("falls back to create, attach, wait, start: the output and the exit status come through", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ctr-fallback-"));
    const sock = join(dir, "d.sock");
    const d = olderDaemon(sock);
    try {
      const r = await run([process.execPath, CLI, "run", "--rm", "busybox", "sh", "-c", "whatever"], { env: { CTR_HOST: `unix://${sock}` } });
      expect(r).toMatchObject({ code: 3, stdout: "out\n", stderr: "err\n" });
      expect(d.seen).toEqual(["POST /containers/create", "POST /containers/c0ffee/attach", "POST /containers/c0ffee/wait", "POST /containers/c0ffee/start"]);
    } finally {
      d.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
