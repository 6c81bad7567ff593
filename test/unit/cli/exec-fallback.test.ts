// `ctr exec` against a daemon that knows neither ctr's exec create with
// start=1 nor the start's status=1 (dockerd, an older ctr): the create is
// answered as a plain 201 although the client asked to upgrade, the start's
// 101 lacks X-Ctr-Ends-With-Status, so the client must start the exec itself,
// read the output to the end and ask inspect for the exit code. The daemon
// here is a stand-in that answers only what such a daemon would.
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
  const handle = (s: Conn, line: string) => {
    const [method, url] = line.split(" ") as [string, string];
    const path = new URL(url, "http://x").pathname.replace(/^\/v[\d.]+/, "");
    seen.push(`${method} ${path}`);
    if (path === "/containers/box/exec") return s.write(plain("201 Created", JSON.stringify({ Id: "e1" })));
    if (path === "/exec/e1/start") {
      s.write("HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.multiplexed-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n");
      s.write(Buffer.concat([frame(1, "out\n"), frame(2, "err\n")]));
      return s.end();
    }
    if (path === "/exec/e1/json") return s.write(plain("200 OK", JSON.stringify({ ExitCode: 4, Running: false })));
    if (path === "/containers/gone/exec") return s.write(plain("409 Conflict", JSON.stringify({ message: "Container gone is not running" })));
    s.write(plain("404 Not Found", JSON.stringify({ message: `page not found: ${path}` })));
  };
  const server = Bun.listen<{ buf: string; done: boolean }>({
    unix: sock,
    socket: {
      open(s) {
        s.data = { buf: "", done: false };
      },
      data(s, d) {
        if (s.data.done) return;
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

describe("ctr exec against a daemon without ctr's exec conversation", () => {
  test("falls back to create, start, inspect: the output and the exit code come through; a refusal is the daemon's message", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ctr-exec-fallback-"));
    const sock = join(dir, "d.sock");
    const d = olderDaemon(sock);
    try {
      const env = { CTR_HOST: `unix://${sock}` };
      expect(await run([process.execPath, CLI, "exec", "box", "sh", "-c", "whatever"], { env })).toMatchObject({ code: 4, stdout: "out\n", stderr: "err\n" });
      expect(d.seen).toEqual(["POST /containers/box/exec", "POST /exec/e1/start", "GET /exec/e1/json"]);
      expect(await run([process.execPath, CLI, "exec", "gone", "true"], { env })).toMatchObject({ code: 1, stderr: "Error response from daemon: Container gone is not running\n" });
    } finally {
      d.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
