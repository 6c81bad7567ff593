// A volume create that hits a full disk fails with the kernel's reason and
// leaves nothing behind (no `.tmp-*` directory). The "disk" is a tmpfs with
// few inodes mounted over the daemon's volumes dir, filled to one free inode:
// the temp dir gets made, its _data does not.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { isRoot, startDaemon, type TestDaemon } from "../../helpers/daemon.ts";

setDefaultTimeout(30_000);
if (!isRoot) console.warn("skip: mounting a small tmpfs needs root");

describe.skipIf(!isRoot)("volume create on a full disk", () => {
  let d: TestDaemon;
  let vols = "";
  beforeAll(async () => {
    d = await startDaemon();
    vols = join(d.root, "volumes");
    expect(Bun.spawnSync(["mount", "-t", "tmpfs", "-o", "nr_inodes=16,size=1m", "ctr-test-full", vols]).exitCode).toBe(0);
  });
  afterAll(async () => {
    Bun.spawnSync(["umount", "-l", vols]);
    await d?.[Symbol.asyncDispose]();
  });

  test("ENOSPC is reported, no .tmp-* is left; with room again the same create works", async () => {
    const fill: string[] = [];
    for (let i = 0; ; i++) {
      try {
        writeFileSync(join(vols, `fill-${i}`), "");
        fill.push(join(vols, `fill-${i}`));
      } catch {
        break;
      }
    }
    expect(fill.length).toBeGreaterThan(2);
    rmSync(fill.pop()!);
    const r = await d.ctr(["volume", "create", "full-vol"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("no space left on device");
    expect(readdirSync(vols).filter((n) => !n.startsWith("fill-"))).toEqual([]);
    expect((await d.ctr(["volume", "ls", "-q"])).stdout.trim()).toBe("");
    for (const f of fill.splice(0, 3)) rmSync(f);
    expect((await d.ctr(["volume", "create", "full-vol"])).code).toBe(0);
    expect(readdirSync(vols).filter((n) => !n.startsWith("fill-"))).toEqual(["full-vol"]);
    expect((await d.ctr(["volume", "rm", "full-vol"])).code).toBe(0);
  });
});
