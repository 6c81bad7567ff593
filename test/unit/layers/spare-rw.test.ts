// Container rw layer dirs made ahead (LayerDirs.takeSpareRw): a create takes
// one whole (upper/, work/, an empty lower) and the next is made behind it;
// they live in .tmp, so whatever a crash leaves is emptied at the next start.
import { afterAll, describe, expect, test } from "bun:test";
import { lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LayerDirs } from "../../../src/store/graphdriver/layer-dirs.ts";
import { Overlay2Driver } from "../../../src/store/graphdriver/overlay2.ts";

const work = mkdtempSync(join(tmpdir(), "ctr-spare-rw-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("spare rw layer dirs", () => {
  test("none at first; one is made behind a refill, taken once, in .tmp, with upper/ (0755), work/ (0700) and an empty lower", async () => {
    const dirs = new LayerDirs(join(work, "a"));
    expect(dirs.takeSpareRw()).toBeNull();
    dirs.refillSpareRw();
    await dirs.spareRwMade();
    const spare = dirs.takeSpareRw()!;
    expect(spare.startsWith(dirs.tmp + "/")).toBe(true);
    expect(readdirSync(spare).sort()).toEqual(["lower", "upper", "work"]);
    expect(lstatSync(join(spare, "upper")).mode & 0o777).toBe(0o755);
    expect(lstatSync(join(spare, "work")).mode & 0o777).toBe(0o700);
    expect(readFileSync(join(spare, "lower"), "utf8")).toBe("");
    expect(dirs.takeSpareRw()).toBeNull();
    dirs.clearTmp();
    expect(readdirSync(dirs.tmp)).toEqual([]);
  });

  test("overlay2's create takes the spare (the same inode becomes the rw dir) and makes the next one", async () => {
    const d = new Overlay2Driver(join(work, "b"));
    await d.createRw("c1", []);
    // The first create found none and made its own; the one made behind it goes to the second.
    const dirs = (d as unknown as { dirs: LayerDirs }).dirs;
    await dirs.spareRwMade();
    const spare = join(dirs.tmp, readdirSync(dirs.tmp).find((n) => n.startsWith("spare-rw-"))!);
    const ino = lstatSync(spare).ino;
    await d.createRw("c2", []);
    expect(lstatSync(dirs.rwDir("c2")).ino).toBe(ino);
    expect(readFileSync(join(dirs.rwDir("c2"), "lower"), "utf8")).toBe("rw/c2/empty");
    expect(d.rwIds().sort()).toEqual(["c1", "c2"]);
    await dirs.spareRwMade();
    expect(readdirSync(dirs.tmp).filter((n) => n.startsWith("spare-rw-")).length).toBe(1);
  });

  test("a create that fails after taking the spare removes it and makes the next one", async () => {
    const d = new Overlay2Driver(join(work, "c"));
    const dirs = (d as unknown as { dirs: LayerDirs }).dirs;
    dirs.refillSpareRw();
    await dirs.spareRwMade();
    const taken = readdirSync(dirs.tmp).find((n) => n.startsWith("spare-rw-"))!;
    // A lower layer that does not exist: no link file to read.
    await expect(d.createRw("c3", ["0".repeat(64)])).rejects.toThrow();
    await dirs.spareRwMade();
    const left = readdirSync(dirs.tmp).filter((n) => n.startsWith("spare-rw-"));
    expect(left.length).toBe(1);
    expect(left).not.toContain(taken);
    expect(d.rwIds()).toEqual([]);
  });
});
