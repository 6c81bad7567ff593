// An rw mount's options must fit the one page the kernel takes as mount data.
// A deep image takes Docker's relative form (l/ links from <home>); the
// mount-target layer's path is longer than a link, so where it would push the
// options past the page the start goes without it (init makes the targets).
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Overlay2Driver } from "../../../src/store/graphdriver/overlay2.ts";

const work = mkdtempSync(join(tmpdir(), "ctr-overlay-page-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const PAGE = 4096;
const id = (i: number) => i.toString(16).padStart(64, "0");

test("deep chains: options always fit a page; the mount-target layer is dropped only where it would not fit", async () => {
  const d = new Overlay2Driver(join(work, "home"));
  const ids: string[] = [];
  let dropped = 0;
  let kept = 0;
  for (let i = 1; i <= 150; i++) {
    await d.create(id(i), ids[0] ?? null);
    ids.unshift(id(i)); // top first
    if (i < 110) continue;
    const c = `c${i}`;
    await d.createRw(c, ids);
    // Past ~140 layers not even the relative form fits (Docker stops at 128): the chain ends there.
    if (d.rwMount(c).options.join(",").length >= PAGE) break;
    const m = d.rwMount(c, { mountpoints: true });
    expect(m.options.join(",").length).toBeLessThan(PAGE);
    const lower = m.options.find((o) => o.startsWith("lowerdir="))!;
    if (lower.includes("/mountpoints")) kept++;
    else dropped++;
    // Without the layer the chain itself is all there, top first.
    expect(lower.split(":").length).toBe(ids.length + (lower.includes("/mountpoints") ? 1 : 0));
  }
  // The chain crossed the point where the relative form fits only without it.
  expect(kept).toBeGreaterThan(0);
  expect(dropped).toBeGreaterThan(0);
});
