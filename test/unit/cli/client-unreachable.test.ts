// The client asks nobody first (no /_ping before each command): a refused first
// connection runs the autostart hook once, then the request is sent again.
import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ApiClient } from "../../../src/client/client.ts";
import { API_VERSION } from "../../../src/version.ts";

const V = `/v${API_VERSION}`;

/** A unix-socket HTTP server answering every path with its own path. */
function serve(sock: string) {
  return Bun.serve({ unix: sock, fetch: (req) => new Response(new URL(req.url).pathname) });
}

describe("client: a daemon is looked for only when a connection is refused", () => {
  test("the first refusal runs the hook once; the request then reaches the server it started", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ctr-unreach-"));
    const sock = join(dir, "d.sock");
    let server: ReturnType<typeof serve> | undefined;
    let calls = 0;
    try {
      const client = new ApiClient(`unix://${sock}`).onUnreachable(async () => {
        calls++;
        server = serve(sock);
      });
      // Two at once: both refused, one hook run.
      const texts = await Promise.all(["/a", "/b"].map(async (p) => (await client.request("GET", p)).text()));
      expect([texts, calls]).toEqual([[`${V}/a`, `${V}/b`], 1]);
    } finally {
      server?.stop(true);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("once a request got through, a refusal is an error and the hook is not run", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ctr-unreach-"));
    const sock = join(dir, "d.sock");
    const server = serve(sock);
    let calls = 0;
    try {
      const client = new ApiClient(`unix://${sock}`).onUnreachable(async () => void calls++);
      expect(await (await client.request("GET", "/x")).text()).toBe(`${V}/x`);
      server.stop(true);
      rmSync(sock, { force: true });
      await expect(client.request("GET", "/x")).rejects.toThrow("cannot connect to the ctr daemon");
      expect(calls).toBe(0);
    } finally {
      server.stop(true);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("the hook's error is what the caller sees", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ctr-unreach-"));
    try {
      const client = new ApiClient(`unix://${join(dir, "none.sock")}`).onUnreachable(async () => {
        throw new Error("no daemon here, start one");
      });
      await expect(client.request("GET", "/x")).rejects.toThrow("no daemon here, start one");
      await expect(client.hijack("/x", {})).rejects.toThrow("no daemon here, start one");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
