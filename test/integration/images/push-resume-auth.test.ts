// Push round-trip (digest stable, skopeo agrees), Range resume through a proxy
// that cuts the connection mid-blob, Basic auth (htpasswd) and a Bearer token server.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createServer, type Server } from "node:http";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { haveRegistry, startRegistry, type RunningRegistry } from "../../helpers/registry.ts";
import { busybox, haveBusybox, multiLayer, randomImage } from "../../../scripts/fixtures/images.ts";
import { pushImage, type BuiltImage } from "../../../scripts/fixtures/oci.ts";
import { storeEnv, type StoreEnv } from "./env.ts";
import { UnauthorizedError } from "../../../src/engine/errors.ts";
import { lookupCredentials, removeCredentials, storeCredentials } from "../../../src/engine/distribution/credentials.ts";

const skip = !haveRegistry || !haveBusybox || process.getuid?.() !== 0;
if (skip) console.warn("skipping push/resume/auth tests: needs root, /usr/bin/docker-registry and /bin/busybox");
const haveSkopeo = existsSync("/usr/bin/skopeo");

describe.skipIf(skip)("push, resume, auth", () => {
  let reg: RunningRegistry;
  let bb: BuiltImage;
  const envs: StoreEnv[] = [];
  const servers: Server[] = [];
  const env = (...a: Parameters<typeof storeEnv>) => {
    const e = storeEnv(...a);
    envs.push(e);
    return e;
  };

  beforeAll(async () => {
    reg = await startRegistry();
    bb = await busybox();
    await pushImage(reg.host, "library/busybox", "latest", bb);
  });
  afterAll(async () => {
    for (const e of envs) e.close();
    for (const s of servers) s.close();
    await reg?.stop();
  });

  test("pull then push to another repo keeps the manifest digest; mount, chunked upload; skopeo agrees", async () => {
    const e = env({}, { uploadChunkSize: 256 * 1024 });
    await e.puller.pull(null, { ref: `${reg.host}/library/busybox` });
    const svc = (await import("../../../src/engine/images/service.ts")).ImageService;
    new svc(e.deps).tag(`${reg.host}/library/busybox`, `${reg.host}/copies/bb`, "v1");
    const out: any[] = [];
    const r = await e.pusher.push({ stdout: { write: (m: unknown) => out.push(m) }, setProgress: () => {} } as any, { ref: `${reg.host}/copies/bb:v1` });
    expect(r.digest).toBe(bb.manifest.digest);
    expect(out[0].status).toBe(`The push refers to repository [${reg.host}/copies/bb]`);
    expect(out.map((m) => m.status)).toContain("Mounted from library/busybox");
    expect(out.map((m) => m.status)).toContain(`v1: digest: ${bb.manifest.digest} size: ${bb.manifest.bytes.byteLength}`);
    // A pushed image that no repo has yet: monolithic + chunked uploads of a fresh image.
    const big = await randomImage(2, 600_000);
    await pushImage(reg.host, "src/big", "latest", big);
    const e2 = env({}, { uploadChunkSize: 256 * 1024 });
    await e2.puller.pull(null, { ref: `${reg.host}/src/big` });
    // Forget the source so push must upload (not mount).
    e2.db.query("UPDATE layer_blobs SET source = NULL").run();
    new svc(e2.deps).tag(`${reg.host}/src/big`, `${reg.host}/dst/big`, "latest");
    const r2 = await e2.pusher.push(null, { ref: `${reg.host}/dst/big` });
    expect(r2.digest).toBe(big.manifest.digest);
    const e3 = env();
    const pulled = await e3.puller.pull(null, { ref: `${reg.host}/dst/big` });
    expect(pulled.image.id).toBe(big.config.digest);
    if (!haveSkopeo) return console.warn("skopeo missing: skipping skopeo inspect check");
    const p = Bun.spawnSync(["skopeo", "inspect", "--tls-verify=false", `docker://${reg.host}/copies/bb:v1`]);
    expect(p.exitCode).toBe(0);
    const info = JSON.parse(p.stdout.toString());
    expect(info.Digest).toBe(bb.manifest.digest);
    expect(info.Layers).toEqual(bb.layers.map((l) => l.digest));
  });

  test("a download cut mid-blob resumes with Range (and restarts when the server ignores Range)", async () => {
    const img = await randomImage(1, 1_500_000);
    await pushImage(reg.host, "test/resume", "latest", img);
    const layer = img.layers[0]!.digest;
    for (const honourRange of [true, false]) {
      const ranges: (string | null)[] = [];
      let cuts = 0;
      const proxy = createServer(async (req, res) => {
        const headers: Record<string, string> = {};
        const isLayer = req.url!.endsWith(`/blobs/${layer}`);
        if (req.headers.range && (honourRange || !isLayer)) headers.Range = req.headers.range;
        if (req.headers.accept) headers.Accept = req.headers.accept;
        if (isLayer) ranges.push(req.headers.range ?? null);
        const up = await fetch(`http://${reg.host}${req.url}`, { method: req.method, headers, redirect: "follow" });
        const h: Record<string, string> = {};
        up.headers.forEach((v, k) => (h[k] = v));
        delete h["content-encoding"];
        res.writeHead(up.status, h);
        let sent = 0;
        for await (const c of up.body as unknown as AsyncIterable<Uint8Array>) {
          // Cut the first two responses for the layer after ~300 kB.
          if (isLayer && cuts < 2 && sent + c.byteLength > 300_000) {
            cuts++;
            res.write(c.subarray(0, 300_000 - sent));
            res.socket?.destroy();
            return;
          }
          res.write(c);
          sent += c.byteLength;
        }
        res.end();
      });
      servers.push(proxy);
      await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", r));
      const host = `127.0.0.1:${(proxy.address() as { port: number }).port}`;
      const e = env();
      const r = await e.puller.pull(null, { ref: `${host}/test/resume` });
      expect(r.image.id).toBe(img.config.digest);
      expect(e.content.has(layer)).toBe(true);
      expect(cuts).toBe(2);
      expect(ranges[0]).toBeNull();
      expect(ranges.length).toBe(3);
      if (honourRange) expect(ranges.slice(1).every((x) => x !== null && /^bytes=\d+-$/.test(x))).toBe(true);
    }
  });

  test("Basic auth via htpasswd: anonymous refused, credentials from config.json accepted", async () => {
    const areg = await startRegistry({ htpasswd: { user: "alice", password: "s3cret" } });
    const home = mkdtempSync(join(tmpdir(), "ctr-home-"));
    try {
      const auth = { Authorization: `Basic ${btoa("alice:s3cret")}` };
      await pushImage(areg.host, "private/bb", "latest", bb, auth);
      const anon = env();
      await expect(anon.puller.pull(null, { ref: `${areg.host}/private/bb` })).rejects.toBeInstanceOf(UnauthorizedError);
      await expect(anon.puller.pull(null, { ref: `${areg.host}/private/bb` })).rejects.toThrow("pull access denied for");
      const cfg = join(home, ".ctr", "config.json");
      storeCredentials(areg.host, { username: "alice", password: "s3cret" }, cfg);
      expect((await Bun.file(cfg).stat()).mode & 0o777).toBe(0o600);
      const e = env({ credentials: (h) => lookupCredentials(h, [cfg]) });
      await e.registry.checkLogin(areg.host, { username: "alice", password: "s3cret" });
      await expect(e.registry.checkLogin(areg.host, { username: "alice", password: "nope" })).rejects.toBeInstanceOf(UnauthorizedError);
      const r = await e.puller.pull(null, { ref: `${areg.host}/private/bb` });
      expect(r.image.id).toBe(bb.config.digest);
      expect(removeCredentials(areg.host, cfg)).toBe(true);
      expect(lookupCredentials(areg.host, [cfg])).toBeNull();
    } finally {
      rmSync(home, { recursive: true, force: true });
      await areg.stop();
    }
  });

  test("Bearer token flow: challenge, token endpoint with scope, token cached", async () => {
    const scopes: string[] = [];
    let tokensIssued = 0;
    // A registry front that demands a Bearer token and a token server, both on loopback.
    const srv = createServer(async (req, res) => {
      const url = new URL(req.url!, "http://x");
      if (url.pathname === "/token") {
        scopes.push(url.searchParams.getAll("scope").join(" "));
        tokensIssued++;
        res.writeHead(200, { "Content-Type": "application/json" });
        return res.end(JSON.stringify({ token: "tok-123", expires_in: 300 }));
      }
      if (req.headers.authorization !== "Bearer tok-123") {
        const port = (srv.address() as { port: number }).port;
        res.writeHead(401, { "WWW-Authenticate": `Bearer realm="http://127.0.0.1:${port}/token",service="test-registry",scope="repository:library/busybox:pull"` });
        return res.end();
      }
      const up = await fetch(`http://${reg.host}${req.url}`, { headers: req.headers.accept ? { Accept: req.headers.accept } : {} });
      const h: Record<string, string> = {};
      up.headers.forEach((v, k) => (h[k] = v));
      delete h["content-encoding"];
      res.writeHead(up.status, h);
      res.end(Buffer.from(await up.arrayBuffer()));
    });
    servers.push(srv);
    await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
    const host = `127.0.0.1:${(srv.address() as { port: number }).port}`;
    const e = env();
    const r = await e.puller.pull(null, { ref: `${host}/library/busybox` });
    expect(r.image.id).toBe(bb.config.digest);
    expect(scopes[0]).toBe("repository:library/busybox:pull");
    expect(tokensIssued).toBe(1);
  });

  test("multi-layer docker image: push of a pulled image is stable too", async () => {
    const ml = await multiLayer();
    await pushImage(reg.host, "test/ml", "v1", ml);
    const e = env();
    await e.puller.pull(null, { ref: `${reg.host}/test/ml:v1` });
    const svc = (await import("../../../src/engine/images/service.ts")).ImageService;
    new svc(e.deps).tag(`${reg.host}/test/ml:v1`, `${reg.host}/other/ml`, "v2");
    const r = await e.pusher.push(null, { ref: `${reg.host}/other/ml:v2` });
    expect(r.digest).toBe(ml.manifest.digest);
  });
});
