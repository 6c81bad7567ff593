// Where a container's mount targets come from (src/store/graphdriver/mountpoint-layer.ts):
// an --rm container gets /proc, /dev, /sys and /etc/{hostname,hosts,resolv.conf}
// from a shared layer under its rw layer, so its rw layer holds none of them;
// a kept one makes them in its rw layer as before; and an image's symlinked
// /etc/hosts is neither hidden by that layer nor followed out of the root.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isRoot, startDaemon, until, type TestDaemon } from "../../helpers/daemon.ts";
import { haveRegistry, seedBusybox, startRegistry, type RunningRegistry } from "../../helpers/registry.ts";

setDefaultTimeout(60_000);

const ready = isRoot && haveRegistry;
if (!isRoot) console.warn("skip: containers need root");
else if (!haveRegistry) console.warn("skip: docker-registry is not installed");

const TARGETS = ["dev", "etc", "proc", "sys"];

describe.skipIf(!ready)("mount targets", () => {
  let reg: RunningRegistry;
  let bb: string;
  let d: TestDaemon;
  let local: string;
  const ctr = (args: string[]) => d.ctr(args);
  const upperOf = (id: string) => join(d.dir, "root/layers/rw", id, "upper");

  beforeAll(async () => {
    reg = await startRegistry();
    bb = await seedBusybox(reg.host);
    d = await startDaemon();
    local = mkdtempSync(join(tmpdir(), "ctr-targets-"));
    expect((await ctr(["pull", "-q", bb])).code).toBe(0);
  });
  afterAll(async () => {
    await d?.ctr(["rm", "-f", "live", "kept", "mk"]);
    await d?.[Symbol.asyncDispose]();
    await reg?.stop();
    if (local) rmSync(local, { recursive: true, force: true });
  });

  test("an --rm container's rw layer holds none of them; inside they are mounted as always", async () => {
    const r = await ctr(["run", "-d", "--rm", "--name", "live", bb, "sleep", "60"]);
    expect(r.code).toBe(0);
    const id = r.stdout.trim();
    await until(async () => (await ctr(["inspect", "-f", "{{.State.Running}}", id])).stdout.trim() === "true", "running");
    const inside = await ctr(["exec", id, "sh", "-c", "cat /etc/hostname; ls -d /proc/1 /sys/kernel /dev/null /dev/pts; mount | grep -c ' /etc/hosts '"]);
    expect(inside.stdout).toBe(`${id.slice(0, 12)}\n/dev/null\n/dev/pts\n/proc/1\n/sys/kernel\n1\n`);
    expect(readdirSync(upperOf(id)).filter((n) => TARGETS.includes(n))).toEqual([]);
    await ctr(["rm", "-f", id]);
  });

  test("a kept container still makes them in its own rw layer (export and cp show them, as dockerd's)", async () => {
    expect((await ctr(["run", "--name", "kept", bb, "true"])).code).toBe(0);
    const id = (await ctr(["inspect", "-f", "{{.Id}}", "kept"])).stdout.trim();
    expect(readdirSync(upperOf(id)).filter((n) => TARGETS.includes(n)).sort()).toEqual(TARGETS);
  });

  test("an image's /etc/hosts symlink stays visible and resolves inside the root", async () => {
    // An image whose /etc/hosts points far above the root: cp the link into a created container, commit it.
    const escape = join(local, "escaped");
    symlinkSync(`../../../../../../..${escape}`, join(local, "hosts"));
    expect((await ctr(["create", "--name", "mk", bb])).code).toBe(0);
    // As a tar on stdin: the link dangles here, and cp of a path reads it first.
    const tar = new Uint8Array(await new Response(Bun.spawn(["tar", "-C", local, "-cf", "-", "hosts"]).stdout).arrayBuffer());
    const cp = await d.ctr(["cp", "-", "mk:/etc"], { stdin: tar });
    expect(cp.stderr).toBe("");
    expect((await ctr(["commit", "mk", "linked:1"])).code).toBe(0);
    const r = await ctr(["run", "--rm", "linked:1", "sh", "-c", "readlink /etc/hosts; grep -q localhost /etc/hosts && echo bound"]);
    expect(r.stdout).toBe(`../../../../../../..${escape}\nbound\n`);
    expect(existsSync(escape)).toBe(false);
  });
});
