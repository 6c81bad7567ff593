// A daemon killed with SIGKILL in the middle of a pull leaves a store that the
// next start repairs: no half image, and the same pull then completes.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { isRoot, startDaemon, until, type TestDaemon } from "../../helpers/daemon.ts";
import { haveRegistry, seedLarge, startRegistry, type RunningRegistry } from "../../helpers/registry.ts";

setDefaultTimeout(120_000);

const ready = isRoot && haveRegistry;
if (!isRoot) console.warn("skip: the daemon needs root");
else if (!haveRegistry) console.warn("skip: docker-registry is not installed");

describe.skipIf(!ready)("kill -9 of the daemon mid-pull", () => {
  let reg: RunningRegistry;
  let big: string;
  let d: TestDaemon;

  beforeAll(async () => {
    reg = await startRegistry();
    big = await seedLarge(reg.host, { layers: 3, mbPerLayer: 25 });
    d = await startDaemon();
  });
  afterAll(async () => {
    await d?.[Symbol.asyncDispose]();
    await reg?.stop();
  });

  test("no half image after the restart, and the pull then completes", async () => {
    const res = await d.client.request("POST", "/images/create", { query: { fromImage: big.replace(/:latest$/, ""), tag: "latest" } });
    const reader = res.body!.getReader();
    // Wait until bytes are flowing (a Downloading progress line), then kill.
    let seen = "";
    await until(async () => {
      const r = await reader.read();
      seen += new TextDecoder().decode(r.value ?? new Uint8Array());
      return r.done || seen.includes("Downloading");
    }, "download progress", 60_000);
    await d.kill9();
    d = await startDaemon([], { dir: d.dir });
    expect((await d.ctr(["images", "-q"])).stdout.trim()).toBe("");
    const pull = await d.ctr(["pull", "-q", big]);
    expect(pull.code).toBe(0);
    expect((await d.ctr(["images", "--format", "{{.Repository}}:{{.Tag}}"])).stdout.trim()).toBe(big);
    const hist = await d.ctr(["history", "-q", big]);
    expect(hist.code).toBe(0);
    // Staging files of the killed pull are gone or were resumed; nothing half-written is in the blob store.
    const blobs = readdirSync(join(d.root, "blobs", "sha256"));
    for (const b of blobs) expect(b).toMatch(/^[0-9a-f]{64}$/);
  });
});
