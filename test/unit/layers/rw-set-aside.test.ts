// A removed container's rw layer leaves its place in one rename and is deleted
// after the answer (LayerStore.setAsideRw); what a crash leaves in between is
// in the drivers' temp area, which the next start empties — never lost+found.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LayerDirs } from "../../../src/store/graphdriver/layer-dirs.ts";

const work = mkdtempSync(join(tmpdir(), "ctr-rw-aside-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("rw layer set aside", () => {
  test("one rename into .tmp: the rw dir is gone from its place with its contents, clearTmp deletes it", () => {
    const dirs = new LayerDirs(join(work, "a"));
    mkdirSync(join(dirs.rwDir("c1"), "upper", "etc"), { recursive: true });
    writeFileSync(join(dirs.rwDir("c1"), "upper", "etc", "f"), "x");
    const aside = dirs.setAsideRw("c1")!;
    expect(existsSync(dirs.rwDir("c1"))).toBe(false);
    expect(dirs.rwIds()).toEqual([]);
    expect(aside.startsWith(dirs.tmp + "/")).toBe(true);
    expect(readdirSync(join(aside, "upper", "etc"))).toEqual(["f"]);
    dirs.clearTmp();
    expect(readdirSync(dirs.tmp)).toEqual([]);
  });

  test("no rw layer: null; an id that is not one is refused", () => {
    const dirs = new LayerDirs(join(work, "b"));
    expect(dirs.setAsideRw("never")).toBeNull();
    expect(() => dirs.setAsideRw("../x")).toThrow("invalid layer id");
  });

  test("the same container's layer set aside twice (a second life) goes to two places", () => {
    const dirs = new LayerDirs(join(work, "c"));
    mkdirSync(dirs.rwDir("c2"), { recursive: true });
    const first = dirs.setAsideRw("c2");
    mkdirSync(dirs.rwDir("c2"), { recursive: true });
    const second = dirs.setAsideRw("c2");
    expect(first).not.toBe(second);
    expect(readdirSync(dirs.tmp).length).toBe(2);
  });
});
