// Nomad computes a container's cgroup from /info's CgroupDriver (cgroupfs) and
// the parent it was configured with: /sys/fs/cgroup/<controller>/<parent>/<id>
// on v1, /sys/fs/cgroup/<parent>/<id> on v2. `ctr daemon --cgroup-parent docker`
// gives dockerd's own layout; here a parent of the test's own, removed at the end.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, rmdirSync } from "node:fs";
import { join } from "node:path";
import { isRoot, removeAllContainers, startDaemon, type TestDaemon } from "../../helpers/daemon.ts";
import { haveRegistry, seedBusybox, startRegistry, type RunningRegistry } from "../../helpers/registry.ts";

setDefaultTimeout(60_000);
const skip = !isRoot ? "needs root" : !haveRegistry ? "needs docker-registry" : undefined;
if (skip) console.warn(`skip: cgroup layout: ${skip}`);

const CG = "/sys/fs/cgroup";
const v2 = existsSync(join(CG, "cgroup.controllers"));
/** Where a tool that trusts CgroupDriver=cgroupfs looks for the container. */
const cgroupDirs = (parent: string, id: string) =>
  v2 ? [join(CG, parent, id)] : ["cpuset", "memory", "pids", "cpu"].map((c) => join(CG, c, parent, id)).filter((d) => existsSync(join(d, "..", "..")));

describe.skipIf(!!skip)("cgroup layout as CgroupDriver says", () => {
  const parent = `orch${process.pid}`;
  let reg: RunningRegistry;
  let bb: string;
  let d: TestDaemon;
  beforeAll(async () => {
    reg = await startRegistry();
    bb = await seedBusybox(reg.host);
    d = await startDaemon(["--cgroup-parent", `/${parent}`]);
    expect((await d.ctr(["pull", "-q", bb])).code).toBe(0);
  });
  afterAll(async () => {
    await removeAllContainers(d);
    await d?.[Symbol.asyncDispose]();
    await reg?.stop();
    // The parent itself (and warm-init leftovers, if any) go with the test.
    for (const top of v2 ? [CG] : readdirSync(CG).map((c) => join(CG, c))) {
      const p = join(top, parent);
      if (!existsSync(p)) continue;
      for (const e of readdirSync(p, { withFileTypes: true })) if (e.isDirectory()) rmdirSync(join(p, e.name));
      rmdirSync(p);
    }
    await reg?.stop();
  });

  test("/info says cgroupfs; the container's pid is in <controller>/<parent>/<id>; rm removes it", async () => {
    const info = await d.client.json<{ CgroupDriver: string }>("GET", "/info");
    expect(info.CgroupDriver).toBe("cgroupfs");
    const id = (await d.ctr(["run", "-d", bb, "sleep", "300"])).stdout.trim();
    const pid = Number((await d.ctr(["inspect", "-f", "{{.State.Pid}}", id])).stdout.trim());
    const dirs = cgroupDirs(parent, id);
    expect(dirs.length).toBeGreaterThan(0);
    for (const dir of dirs) expect(readFileSync(join(dir, "cgroup.procs"), "utf8").split("\n")).toContain(String(pid));
    expect((await d.ctr(["rm", "-f", id])).code).toBe(0);
    for (const dir of dirs) expect(existsSync(dir)).toBe(false);
  });
});
