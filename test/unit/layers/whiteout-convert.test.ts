// overlay upper dir → OCI layer entries, and `docker diff` of an upper dir, on
// temp dirs. Whiteout devices and trusted.* xattrs need root.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { lsetxattr, mknod, S_IFCHR } from "../../../src/kernel/fs-ffi.ts";
import { overlayUpperEntries } from "../../../src/store/graphdriver/diff-tar.ts";
import { overlayChanges } from "../../../src/store/graphdriver/changes.ts";

const isRoot = process.getuid?.() === 0;
if (!isRoot) console.warn("skipping whiteout conversion tests: mknod and trusted.* xattrs need root");
const work = mkdtempSync(join(tmpdir(), "ctr-wh-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe.skipIf(!isRoot)("overlay upper → OCI whiteouts", () => {
  test("0:0 devices become .wh. files, opaque dirs get .wh..wh..opq, overlay xattrs are dropped", () => {
    const lower = join(work, "lower");
    const upper = join(work, "upper");
    mkdirSync(join(lower, "etc"), { recursive: true });
    writeFileSync(join(lower, "etc/gone"), "");
    mkdirSync(join(lower, "var/cache"), { recursive: true });
    writeFileSync(join(lower, "var/cache/old"), "");
    mkdirSync(join(upper, "etc"), { recursive: true });
    mknod(join(upper, "etc/gone"), S_IFCHR, 0);
    mkdirSync(join(upper, "var/cache"), { recursive: true });
    lsetxattr(join(upper, "var/cache"), "trusted.overlay.opaque", Buffer.from("y"));
    writeFileSync(join(upper, "var/cache/new"), "n");

    const entries = [...overlayUpperEntries(upper)];
    expect(entries.map((e) => [e.name, e.type, e.size ?? 0])).toEqual([
      ["etc", "directory", 0],
      ["etc/.wh.gone", "file", 0],
      ["var", "directory", 0],
      ["var/cache", "directory", 0],
      ["var/cache/.wh..wh..opq", "file", 0],
      ["var/cache/new", "file", 1],
    ]);
    expect(entries.find((e) => e.name === "var/cache")?.xattrs?.size).toBe(0);

    expect(overlayChanges(upper, [lower])).toEqual([
      { kind: "C", path: "/etc" },
      { kind: "D", path: "/etc/gone" },
      { kind: "C", path: "/var" },
      { kind: "C", path: "/var/cache" },
      { kind: "A", path: "/var/cache/new" },
      { kind: "D", path: "/var/cache/old" },
    ]);
  });
});
