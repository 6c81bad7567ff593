// ApiClient.upgrade: an upgrade request answered with a 101 gives the raw
// socket, any other answer its status and whole body — however the daemon
// framed it (Content-Length, chunked, or up to the close), in however many
// pieces. `ctr run` relies on it to fall back when a daemon (dockerd, an older
// ctr) answers its create-with-run= as a plain 201.
import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ApiClient } from "../../../src/client/client.ts";

/** A unix socket server that reads one request and writes `pieces` back, one write each, then maybe closes. */
async function withServer(pieces: string[], close: boolean, body: (client: ApiClient, request: Promise<string>) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "ctr-upgrade-"));
  const sock = join(dir, "d.sock");
  const got = Promise.withResolvers<string>();
  const server = Bun.listen({
    unix: sock,
    socket: {
      async data(s, d) {
        got.resolve(Buffer.from(d).toString());
        for (const p of pieces) {
          s.write(p);
          s.flush();
          await Bun.sleep(5);
        }
        if (close) s.end();
      },
    },
  });
  try {
    await body(new ApiClient(`unix://${sock}`), got.promise);
  } finally {
    server.stop(true);
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("client: upgrade requests", () => {
  test("a 201 with Content-Length arriving in pieces is read whole", async () => {
    const json = JSON.stringify({ Id: "abc", Warnings: [] });
    await withServer([`HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: ${json.length}\r\n\r\n${json.slice(0, 5)}`, json.slice(5)], false, async (client, request) => {
      const r = await client.upgrade("/containers/create", { run: "removed" }, { Image: "x" });
      expect(r).toMatchObject({ status: 201, body: json });
      const head = await request;
      expect(head).toStartWith("POST /v1.51/containers/create?run=removed HTTP/1.1\r\n");
      expect(head).toContain("\r\nUpgrade: tcp\r\n");
      expect(head).toEndWith('\r\n\r\n{"Image":"x"}');
    });
  });

  test("a chunked answer is decoded; one without length ends at the close", async () => {
    await withServer(["HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{\"Id", "\r\n7\r\n\":\"ab\"}\r\n0\r\n\r\n"], false, async (client) => {
      expect(await client.upgrade("/containers/create", {})).toMatchObject({ status: 201, body: '{"Id":"ab"}' });
    });
    await withServer(["HTTP/1.1 404 Not Found\r\n\r\n{\"message\":", "\"gone\"}"], true, async (client) => {
      expect(await client.upgrade("/containers/create", {})).toMatchObject({ status: 404, body: '{"message":"gone"}' });
    });
    // hijack() turns any plain answer into the daemon's message.
    await withServer(["HTTP/1.1 404 Not Found\r\nContent-Length: 18\r\n\r\n{\"message\":\"gone\"}"], false, async (client) => {
      await expect(client.hijack("/containers/x/attach", {})).rejects.toMatchObject({ status: 404, message: "gone" });
    });
  });

  test("a 101 gives the socket, its headers, and the bytes that came with the head", async () => {
    await withServer(["HTTP/1.1 101 UPGRADED\r\nX-Ctr-Container-Id: abc\r\n\r\nfirst"], true, async (client) => {
      const r = await client.upgrade("/containers/create", {});
      if (!("socket" in r)) throw new Error(`expected a 101, got ${r.status}`);
      expect([r.headers.get("x-ctr-container-id"), Buffer.from(r.head).toString()]).toEqual(["abc", "first"]);
      r.socket.destroy();
    });
  });
});
