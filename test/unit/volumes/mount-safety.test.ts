// Mount targets: resolved inside the root (secureJoin), then pinned with an
// O_PATH descriptor that must still name that path when mount(2) runs.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readlinkSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { secureJoin, viaPinned } from "../../../src/engine/execdriver/rootfs.ts";

const base = mkdtempSync(join(tmpdir(), "ctr-pin-"));
afterAll(() => rmSync(base, { recursive: true, force: true }));

describe("mount target pinning", () => {
  const root = join(base, "root");
  const outside = join(base, "outside");
  mkdirSync(join(root, "etc"), { recursive: true });
  mkdirSync(join(root, "data"));
  mkdirSync(join(outside, "y"), { recursive: true });
  symlinkSync("/etc", join(root, "evil"));
  symlinkSync("../../../../..", join(root, "up"));

  test("secureJoin keeps hostile links inside the root", () => {
    expect(secureJoin(root, "/evil")).toBe(join(root, "etc"));
    expect(secureJoin(root, "/up/etc")).toBe(join(root, "etc"));
  });

  test("the mount gets a /proc/self/fd path naming exactly the resolved directory", () => {
    let seen = "";
    viaPinned(join(root, "data"), (p) => {
      expect(p).toMatch(/^\/proc\/self\/fd\/\d+$/);
      seen = readlinkSync(p);
    });
    expect(seen).toBe(join(root, "data"));
  });

  test("a target that became a symlink, or lies under one, is refused rather than followed", () => {
    const mount = () => {
      throw new Error("mount must not run");
    };
    // As if a component had been swapped after secureJoin resolved it.
    expect(() => viaPinned(join(root, "evil"), mount)).toThrow(/changed while being mounted/);
    symlinkSync(outside, join(root, "swapped"));
    expect(() => viaPinned(join(root, "swapped", "y"), mount)).toThrow(`now ${join(outside, "y")}`);
  });
});
