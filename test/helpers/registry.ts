// Debian's `docker-registry` (distribution v2) on 127.0.0.1 with a free port,
// its config and filesystem storage in a temp dir; optional htpasswd (Basic)
// auth. stop() kills it and removes the dir.
import { mkdtempSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { busybox, randomImage } from "../../scripts/fixtures/images.ts";
import { pushImage } from "../../scripts/fixtures/oci.ts";

export const REGISTRY_BIN = "/usr/bin/docker-registry";
export const haveRegistry = existsSync(REGISTRY_BIN);

export interface RunningRegistry {
  /** 127.0.0.1:PORT */
  host: string;
  /** Storage root (docker/registry/v2/… below it), for tests that corrupt blobs. */
  storage: string;
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export interface RegistryOptions {
  /** Require Basic auth with this user. */
  htpasswd?: { user: string; password: string };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export async function startRegistry(opts: RegistryOptions = {}): Promise<RunningRegistry> {
  const dir = mkdtempSync(join(tmpdir(), "ctr-registry-"));
  const storage = join(dir, "storage");
  const port = await freePort();
  let auth = "";
  if (opts.htpasswd) {
    const hash = await Bun.password.hash(opts.htpasswd.password, { algorithm: "bcrypt", cost: 4 });
    writeFileSync(join(dir, "htpasswd"), `${opts.htpasswd.user}:${hash}\n`);
    auth = `auth:\n  htpasswd:\n    realm: ctr-test\n    path: ${join(dir, "htpasswd")}\n`;
  }
  const config = `version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: ${storage}
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:${port}
${auth}`;
  const cfgPath = join(dir, "config.yml");
  writeFileSync(cfgPath, config);
  const proc = Bun.spawn([REGISTRY_BIN, "serve", cfgPath], { stdout: "ignore", stderr: "pipe" });
  const host = `127.0.0.1:${port}`;
  const stop = async () => {
    proc.kill();
    await proc.exited;
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      const r = await fetch(`http://${host}/v2/`);
      await r.body?.cancel();
      if (r.status === 200 || r.status === 401) break;
    } catch {
      // not listening yet
    }
    if (proc.exitCode !== null || Date.now() > deadline) {
      const err = await new Response(proc.stderr).text().catch(() => "");
      await stop();
      throw new Error(`docker-registry did not start on ${host}: ${err.slice(0, 500)}`);
    }
    await Bun.sleep(20);
  }
  return { host, storage, stop, [Symbol.asyncDispose]: stop };
}

/** Pushes the from-scratch busybox image as HOST/library/busybox:latest; returns that reference. */
export async function seedBusybox(host: string): Promise<string> {
  await pushImage(host, "library/busybox", "latest", await busybox());
  return `${host}/library/busybox:latest`;
}

/** Pushes an image of `layers` incompressible layers of `mbPerLayer` MB as HOST/test/large:latest. */
export async function seedLarge(host: string, o: { layers: number; mbPerLayer: number }): Promise<string> {
  await pushImage(host, "test/large", "latest", await randomImage(o.layers, o.mbPerLayer * 1_000_000));
  return `${host}/test/large:latest`;
}
