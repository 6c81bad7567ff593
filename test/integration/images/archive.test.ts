// Image archives: `ctr save` / `ctr load` against skopeo and the docker CLI.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { hasDocker, isRoot, run, startDaemon, type TestDaemon } from "../../helpers/daemon.ts";
import { haveRegistry, seedBusybox, startRegistry, type RunningRegistry } from "../../helpers/registry.ts";

setDefaultTimeout(60_000);

const hasSkopeo = Bun.which("skopeo") !== null;
const ready = isRoot && haveRegistry && hasSkopeo;
if (!isRoot) console.warn("skip: the daemon needs root");
else if (!haveRegistry) console.warn("skip: docker-registry is not installed");
else if (!hasSkopeo) console.warn("skip: skopeo is not installed");

describe.skipIf(!ready)("image save and load", () => {
  let reg: RunningRegistry;
  let bb: string;
  let d: TestDaemon;
  let dir: string;
  const ctr = (args: string[], stdin?: Uint8Array) => d.ctr(args, { stdin });
  const imageId = async (ref: string) => (await ctr(["inspect", "-f", "{{.Id}}", ref])).stdout.trim();

  beforeAll(async () => {
    reg = await startRegistry();
    bb = await seedBusybox(reg.host);
    d = await startDaemon();
    dir = mkdtempSync(join(tmpdir(), "ctr-archive-"));
    expect((await ctr(["pull", "-q", bb])).code).toBe(0);
  });
  afterAll(async () => {
    await d?.[Symbol.asyncDispose]();
    await reg?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("save writes a docker-archive that is also an OCI layout; skopeo reads both views", async () => {
    const out = join(dir, "bb.tar");
    expect((await ctr(["save", "-o", out, bb])).code).toBe(0);
    const names = (await run(["tar", "tf", out])).stdout.split("\n");
    expect(names).toEqual(expect.arrayContaining(["manifest.json", "repositories", "oci-layout", "index.json"]));
    const asDocker = await run(["skopeo", "inspect", `docker-archive:${out}`]);
    expect(asDocker.code).toBe(0);
    const asOci = await run(["skopeo", "inspect", `oci-archive:${out}`]);
    expect(asOci.code).toBe(0);
    // And the saved image is pushable from the archive, unchanged: same config digest.
    const copy = await run(["skopeo", "copy", "--dest-tls-verify=false", `docker-archive:${out}`, `docker://${reg.host}/saved/bb:1`]);
    expect(copy.code).toBe(0);
    const remote = await run(["skopeo", "inspect", "--tls-verify=false", "--raw", `docker://${reg.host}/saved/bb:1`]);
    expect(JSON.parse(remote.stdout).config.digest).toBe(await imageId(bb));
  });

  test("save, rmi, load round-trips the image id and tag", async () => {
    const id = await imageId(bb);
    const out = join(dir, "round.tar");
    expect((await ctr(["save", "-o", out, bb])).code).toBe(0);
    expect((await ctr(["rmi", bb])).code).toBe(0);
    const load = await ctr(["load", "-i", out]);
    expect(load.stdout).toContain(`Loaded image: ${bb}`);
    expect(await imageId(bb)).toBe(id);
    expect((await ctr(["run", "--rm", bb, "echo", "loaded"])).stdout).toBe("loaded\n");
  });

  test("load reads skopeo's docker-archive and OCI archive", async () => {
    const da = join(dir, "sk-docker.tar");
    expect((await run(["skopeo", "copy", "--src-tls-verify=false", `docker://${bb}`, `docker-archive:${da}:other/bb:7`])).code).toBe(0);
    expect((await ctr(["load", "-i", da])).stdout).toContain("Loaded image: other/bb:7");
    expect(await imageId("other/bb:7")).toBe(await imageId(bb));
    const oa = join(dir, "sk-oci.tar");
    expect((await run(["skopeo", "copy", "--src-tls-verify=false", `docker://${bb}`, `oci-archive:${oa}:v1`])).code).toBe(0);
    expect((await ctr(["load", "-i", oa])).stdout).toMatch(/Loaded image( ID)?: /);
  });

  test("a corrupt or hostile archive is refused and leaves nothing behind", async () => {
    const garbage = await ctr(["load"], new TextEncoder().encode("not a tar at all"));
    expect(garbage.code).not.toBe(0);
    // A manifest that points outside the archive.
    const evil = mkdtempSync(join(dir, "evil-"));
    writeFileSync(join(evil, "manifest.json"), JSON.stringify([{ Config: "../../../etc/passwd", RepoTags: ["evil:1"], Layers: [] }]));
    const tar = join(dir, "evil.tar");
    await run(["tar", "-cf", tar, "-C", evil, "manifest.json"]);
    const r = await ctr(["load", "-i", tar]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("outside the archive");
    expect((await ctr(["images", "-q", "evil:1"])).stdout.trim()).toBe("");
    expect(readdirSync(join(d.root, "tmp")).filter((n) => n.startsWith("load-"))).toEqual([]);
  });

  describe.skipIf(!hasDocker)("through the docker CLI", () => {
    test("docker save | docker load, and docker load -i", async () => {
      const out = join(dir, "docker.tar");
      expect((await d.docker(["save", "-o", out, bb])).code).toBe(0);
      expect((await d.docker(["rmi", bb])).code).toBe(0);
      const load = await d.docker(["load", "-i", out]);
      expect(load.stdout).toBe(`Loaded image: ${bb}\n`);
      const piped = await run(["sh", "-c", `docker -H ${d.host} save ${bb} | docker -H ${d.host} load`]);
      expect(piped.stdout).toBe(`Loaded image: ${bb}\n`);
    });
  });
});
