// kill -9 of the daemon in the middle of a volume copy-up: the next container
// that mounts the volume finds it complete (the copy is redone), never a
// half-filled volume taken for a used one. The image's /data holds many
// files so the copy lasts long enough to be caught in the act (polled: the
// marker beside _data and some entries copied).
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { isRoot, startDaemon, until, type TestDaemon } from "../../helpers/daemon.ts";
import { haveRegistry, startRegistry, type RunningRegistry } from "../../helpers/registry.ts";
import { busyboxEntries } from "../../../scripts/fixtures/images.ts";
import { buildImage, pushImage, type Entry } from "../../../scripts/fixtures/oci.ts";
import { COPYUP_MARKER } from "../../../src/engine/containers/volume-copyup.ts";

setDefaultTimeout(120_000);
const ready = isRoot && haveRegistry;
if (!isRoot) console.warn("skip: copy-up crash needs root");
else if (!haveRegistry) console.warn("skip: docker-registry is not installed");

const FILES = 6_000;

describe.skipIf(!ready)("kill -9 during a volume copy-up", () => {
  let reg: RunningRegistry;
  let d: TestDaemon | undefined;
  let image = "";
  beforeAll(async () => {
    reg = await startRegistry();
    const data: Entry[] = [{ type: "dir", name: "data" }];
    for (let i = 0; i < FILES; i++) data.push({ type: "file", name: `data/f${i}`, content: `${i}\n` });
    await pushImage(reg.host, "test/manyfiles", "latest", await buildImage({ layers: [{ entries: busyboxEntries() }, { entries: data }], cmd: ["sh"] }));
    image = `${reg.host}/test/manyfiles:latest`;
    d = await startDaemon();
    expect((await d.ctr(["pull", "-q", image])).code).toBe(0);
  });
  afterAll(async () => {
    await d?.ctr(["rm", "-f", "after"]);
    await d?.ctr(["volume", "rm", "-f", "many"]);
    await d?.[Symbol.asyncDispose]();
    await reg?.stop();
  });

  test("the copy is redone after the restart: all files, no marker", async () => {
    const vol = join(d!.root, "volumes", "many");
    const create = d!.ctr(["create", "--name", "during", "-v", "many:/data", image, "true"]);
    await until(() => existsSync(join(vol, COPYUP_MARKER)) && readdirSync(join(vol, "_data")).length > 0, "copy-up under way", 60_000);
    await d!.kill9();
    await create;
    const partial = readdirSync(join(vol, "_data")).length;
    expect(existsSync(join(vol, COPYUP_MARKER))).toBe(true);
    expect(partial).toBeLessThan(FILES);
    const dir = d!.dir;
    d = await startDaemon([], { dir });
    expect((await d.ctr(["ps", "-aq"])).stdout.trim()).toBe("");
    const r = await d.ctr(["run", "--name", "after", "-v", "many:/data", image, "sh", "-c", "ls /data | wc -l"]);
    expect(r.stderr).toBe("");
    expect(r.stdout.trim()).toBe(String(FILES));
    expect(existsSync(join(vol, COPYUP_MARKER))).toBe(false);
    console.log(`copy-up interrupted at ${partial} of ${FILES} entries, redone in full after the restart`);
  });
});
