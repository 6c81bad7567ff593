// Container directories made ahead (src/engine/containers/spare-dirs.ts): a
// new container's start renames one into place with its empty files and the
// log under the container's name; an existing directory (a restart) is never
// replaced; the daemon's disk repair empties the pool.
import { afterAll, describe, expect, test } from "bun:test";
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SpareContainerDirs, SPARES_DIR } from "../../../src/engine/containers/spare-dirs.ts";
import { containerPaths, writeContainerFilesAsync } from "../../../src/engine/containers/files.ts";

const work = mkdtempSync(join(tmpdir(), "ctr-spare-dirs-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const ID = (c: string) => c.repeat(64);

describe("spare container dirs", () => {
  test("the first start makes its own and one behind it; the next takes that one whole", async () => {
    const root = join(work, "a");
    mkdirSync(root);
    const spares = new SpareContainerDirs(root);
    expect(spares.take(ID("a"))).toBe(false);
    await spares.made();
    const spareDir = join(root, SPARES_DIR, readdirSync(join(root, SPARES_DIR))[0]!);
    const ino = lstatSync(spareDir).ino;
    await writeContainerFilesAsync(root, ID("b"), { hostname: "box", hosts: "127.0.0.1 localhost\n", resolvConf: "nameserver 127.0.0.1\n" }, spares);
    const p = containerPaths(root, ID("b"));
    expect(lstatSync(p.dir).ino).toBe(ino);
    expect(lstatSync(p.dir).mode & 0o777).toBe(0o710);
    expect(readdirSync(p.dir).sort()).toEqual([`${ID("b")}-json.log`, "hostname", "hosts", "resolv.conf", "rootfs"]);
    expect([readFileSync(p.hostname, "utf8"), readFileSync(p.hosts, "utf8"), readFileSync(p.resolvConf, "utf8"), readFileSync(p.log, "utf8")]).toEqual(["box\n", "127.0.0.1 localhost\n", "nameserver 127.0.0.1\n", ""]);
  });

  test("an existing directory is written as before (atomically), never replaced by a spare", async () => {
    const root = join(work, "b");
    const p = containerPaths(root, ID("c"));
    mkdirSync(p.dir, { recursive: true });
    writeFileSync(join(p.dir, "keep"), "x");
    const spares = new SpareContainerDirs(root);
    spares.take(ID("z"));
    await spares.made();
    expect(spares.take(ID("c"))).toBe(false);
    await writeContainerFilesAsync(root, ID("c"), { hostname: "h", hosts: "", resolvConf: "" }, spares);
    expect(readdirSync(p.dir).sort()).toEqual(["hostname", "hosts", "keep", "resolv.conf"]);
  });
});

describe("disk repair at the daemon's start", () => {
  test("empties the spares (nothing in them is anyone's) and leaves the containers' directories alone", async () => {
    const { repairContainerDisk } = await import("../../../src/engine/containers/disk-repair.ts");
    const root = join(work, "c");
    mkdirSync(join(root, SPARES_DIR, "abc", "rootfs"), { recursive: true });
    mkdirSync(join(root, ID("d")), { recursive: true });
    const moved: string[] = [];
    const store = { all: () => [{ id: ID("d"), state: {} }], save: () => {} } as never;
    const report = repairContainerDisk({ store, dir: root, rwIds: () => [ID("d")], rwPath: (id) => join(work, "rw", id), lost: { moveAside: (_k: string, p: string) => void moved.push(p) } as never });
    expect(readdirSync(root)).toEqual([ID("d")]);
    expect(moved).toEqual([]);
    expect(report).toEqual({ movedAside: [], dead: [] });
  });
});
