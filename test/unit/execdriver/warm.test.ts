// WarmInit's refill after a spawn that fails: the next start tries again, the
// pool does not retry on its own (it did every 2 ms, each a real spawn and a
// cgroup made and removed, for as long as the cause lasted).
import { expect, test } from "bun:test";
import { WarmInit } from "../../../src/engine/execdriver/warm.ts";
import type { CgroupManager } from "../../../src/kernel/cgroups/types.ts";
import type { InitChild } from "../../../src/engine/execdriver/init-child.ts";

function fakeCgroups(): { cgroups: CgroupManager; made: string[]; removed: string[] } {
  const made: string[] = [];
  const removed: string[] = [];
  const cgroups = {
    list: () => [],
    create: (id: string) => void made.push(id),
    remove: async (id: string) => void removed.push(id),
    procsFiles: (id: string) => [`/nonexistent/${id}/cgroup.procs`],
    rename: () => {},
  } as unknown as CgroupManager;
  return { cgroups, made, removed };
}

test("a failed warm spawn is not retried until the next start asks", async () => {
  const { cgroups, made, removed } = fakeCgroups();
  let spawns = 0;
  const warm = new WarmInit(async () => {
    spawns++;
    throw new Error("EAGAIN");
  }, cgroups);
  warm.refill();
  // The refill fires after 2 ms; the old code then kept going every 2 ms (dozens here).
  await Bun.sleep(60);
  expect(spawns).toBe(1);
  expect(removed).toEqual(made); // the failed spawn's cgroup went with it
  // A start finds none (the driver spawns its own) and refills after: one more attempt, again only one.
  expect(await warm.take("c1")).toBeNull();
  warm.refill();
  await Bun.sleep(60);
  expect(spawns).toBe(2);
  await warm.close();
});

test("a spawn that succeeds fills the pool up to its depth, then stops", async () => {
  const { cgroups } = fakeCgroups();
  let spawns = 0;
  let killed = 0;
  const child = (): InitChild => ({
    pid: 1 << 22, // no such pid: renice fails quietly
    toInit: -1,
    fromInit: -1,
    stdin: null,
    stdout: null,
    stderr: null,
    exited: Promise.resolve({ exitCode: 137, signal: 9, oomKilled: false }),
    running: () => true,
    kill: () => void killed++,
  });
  const warm = new WarmInit(async () => (spawns++, child()), cgroups);
  warm.refill();
  await Bun.sleep(60);
  expect(spawns).toBe(2); // DEPTH
  await warm.close();
  expect(killed).toBe(2);
});
