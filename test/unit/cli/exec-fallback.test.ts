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
import { frame, plain, standInDaemon, UPGRADED } from "../../helpers/stand-in-daemon.ts";

function olderDaemon(sock: string) {
  return standInDaemon(sock, (s, _method, path) => {
    if (path === "/containers/box/exec") return s.write(plain("201 Created", JSON.stringify({ Id: "e1" })));
    if (path === "/exec/e1/start") {
      s.write(UPGRADED);
      s.write(Buffer.concat([frame(1, "out\n"), frame(2, "err\n")]));
      return s.end();
    }
    if (path === "/exec/e1/json") return s.write(plain("200 OK", JSON.stringify({ ExitCode: 4, Running: false })));
    if (path === "/containers/gone/exec") return s.write(plain("409 Conflict", JSON.stringify({ message: "Container gone is not running" })));
    s.write(plain("404 Not Found", JSON.stringify({ message: `page not found: ${path}` })));
  });
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
