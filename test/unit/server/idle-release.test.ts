import { expect, test } from "bun:test";
import { idleRelease, LONG_BURST } from "../../../src/server/idle-release.ts";
import { memoryFields } from "../../../src/server/memory-report.ts";
import { until } from "../../helpers/daemon.ts";

test("memory is released once after a burst, only when the quiet follows growth", async () => {
  let rss = 100;
  let released = 0;
  const r = idleRelease(30, () => {
    released++;
    rss = 101; // what the release gave back sets the new floor
  }, () => rss * 1024 * 1024);
  // A burst of jobs: one release once they stop, not one per job.
  rss = 115; // above WORTH, below BIG: waits for the quiet
  for (let i = 0; i < 5; i++) r.poke();
  await until(() => released === 1, "the release after the burst");
  // Quiet work that did not grow RSS (a monitor's pings) costs nothing.
  r.poke();
  await Bun.sleep(100);
  expect(released).toBe(1);
  // Growth again: released again.
  rss = 120;
  r.poke();
  await until(() => released === 2, "the second release");
  r.stop();
});

test("a burst of jobs is released at the quiet even when RSS barely grew past the floor", async () => {
  let rss = 100;
  let released = 0;
  const r = idleRelease(30, () => {
    released++;
  }, () => rss * 1024 * 1024);
  rss = 102; // below WORTH: a floor read while the burst's garbage was already there
  for (let i = 0; i < 20; i++) r.poke();
  await until(() => released === 1, "the release after the burst of jobs");
  // One job alone after it (a monitor's ping) is no burst.
  r.poke();
  await Bun.sleep(100);
  expect(released).toBe(1);
  r.stop();
});

test("a job that left RSS far above the floor is released right after it, not after the quiet", async () => {
  let rss = 100;
  let released = 0;
  // A quiet period far longer than the test: only the release after a big job can happen.
  const r = idleRelease(60_000, () => {
    released++;
    rss = 101;
  }, () => rss * 1024 * 1024);
  rss = 160; // a pull's garbage
  r.poke();
  r.poke(); // another job ending in the same turn: still one release
  await until(() => released === 1, "the release right after the big job");
  // Small growth after it waits for the quiet, which does not come within the test.
  rss = 110;
  r.poke();
  await Bun.sleep(50);
  expect(released).toBe(1);
  r.stop();
});

test("a burst that goes on is released every LONG_BURST jobs once RSS grew, without waiting for the quiet", async () => {
  let rss = 100;
  let released = 0;
  // A quiet period far longer than the test: only the long-burst rule can release.
  const r = idleRelease(60_000, () => {
    released++;
    rss = 101;
  }, () => rss * 1024 * 1024);
  // Runs back to back that did not grow RSS: nothing to give back, however many.
  for (let i = 0; i < 3 * LONG_BURST; i++) r.poke();
  await Bun.sleep(50);
  expect(released).toBe(0);
  // Growth above WORTH (below BIG): released once LONG_BURST jobs have run since the last release.
  const r2 = idleRelease(60_000, () => {
    released++;
    rss = 101;
  }, () => rss * 1024 * 1024);
  rss = 106;
  for (let i = 0; i < LONG_BURST - 1; i++) r2.poke();
  await Bun.sleep(50);
  expect(released).toBe(0);
  r2.poke();
  await until(() => released === 1, "the release at the LONG_BURST-th job");
  // The count starts again after it.
  rss = 106;
  for (let i = 0; i < LONG_BURST - 1; i++) r2.poke();
  await Bun.sleep(50);
  expect(released).toBe(1);
  r2.poke();
  await until(() => released === 2, "the second release");
  r.stop();
  r2.stop();
});

test("the memory report splits RSS and the JS heap", () => {
  Bun.gc(true); // the heap figures are what the last collection found: none yet in a fresh test process
  const f = memoryFields() as Record<string, number>;
  expect(f.rssMB).toBeGreaterThan(0);
  expect(f.anonMB).toBeGreaterThan(0);
  expect(f.fileMB).toBeGreaterThan(0);
  expect(f.anonMB! + f.fileMB!).toBeLessThanOrEqual(f.rssMB! + 1);
  expect(f.heapMB).toBeGreaterThan(0);
  expect(f.objects).toBeGreaterThan(0);
});
