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
import { frame, plain, standInDaemon, UPGRADED, type Conn } from "../../helpers/stand-in-daemon.ts";

function olderDaemon(sock: string) {
  let attached: Conn | null = null;
  let waiter: Conn | null = null;
  return standInDaemon(sock, (s, _method, path) => {
    if (path === "/containers/create") return s.write(plain("201 Created", JSON.stringify({ Id: "c0ffee", Warnings: [] })));
    if (path === "/containers/c0ffee/attach") {
      attached = s;
      return s.write(UPGRADED);
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
  });
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
