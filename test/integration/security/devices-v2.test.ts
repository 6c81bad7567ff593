// The cgroup v2 device program for real: a container run by the exec driver
// with a v2 cgroup manager on this host's cgroup2 mount (the root on pure v2
// hosts, /sys/fs/cgroup/unified on hybrid ones — the program works on any
// cgroup2 directory). Its root may mknod a host disk's node (CAP_MKNOD, as in
// Docker) but not open it; /dev/null opens; a privileged container (no
// program) opens the disk, so the probe can fail. The same container sees its
// own cgroup at /sys/fs/cgroup (cgroup2, read-only, rooted by its cgroup namespace).
import { afterAll, describe, expect, test } from "bun:test";
import { readFileSync, rmdirSync } from "node:fs";
import { join } from "node:path";
import { ExecDriver } from "../../../src/engine/execdriver/driver.ts";
import { CgroupV2 } from "../../../src/kernel/cgroups/v2.ts";
import { outcome, Sandbox, skipReason } from "../execdriver/env.ts";
import { hostBlockDevice } from "./probe.ts";

/** The first cgroup2 mount point of this host (/proc/self/mountinfo field 5, fstype after " - "). */
function cgroup2Mount(): string | null {
  for (const line of readFileSync("/proc/self/mountinfo", "utf8").split("\n")) {
    const [pre, post] = line.split(" - ");
    if (post?.startsWith("cgroup2 ")) return pre!.split(" ")[4]!;
  }
  return null;
}

const mount = cgroup2Mount();
const dev = hostBlockDevice();
const skip = skipReason ?? (!mount ? "no cgroup2 mount on this host" : !dev ? "no block device found in /sys/block" : null);
if (skip) console.warn(`skip: cgroup v2 device program: ${skip}`);

describe.skipIf(!!skip)("cgroup v2 device program (root)", () => {
  const parent = `ctr-devtest-${process.pid}`;
  const sb = skip ? null! : new Sandbox();
  const driver = skip ? null! : new ExecDriver({ cgroups: new CgroupV2(mount!, parent) });
  afterAll(() => {
    sb?.cleanup();
    try {
      rmdirSync(join(mount!, parent));
    } catch {}
  });

  async function run(script: string, privileged: boolean) {
    const spec = sb.spec(["sh", "-c", script], { privileged });
    const p = await driver.start(spec);
    try {
      return await outcome(p);
    } finally {
      await driver.cleanup(spec.id);
    }
  }
  const [ma, mi] = dev ?? [0, 0];
  const probe = `mknod /tmp/disk b ${ma} ${mi} && echo mknod-ok; head -c1 /tmp/disk >/dev/null 2>&1 && echo disk-open || echo disk-refused; head -c1 /dev/null && echo null-ok; head -c1 /dev/zero >/dev/null && echo zero-ok; grep -c . /proc/self/cgroup >/dev/null`;

  test("mknod of a host disk works, opening it is refused, /dev/null and /dev/zero open", async () => {
    const r = await run(probe, false);
    expect(r.out).toBe("mknod-ok\ndisk-refused\nnull-ok\nzero-ok\n");
    expect(r.exit.exitCode).toBe(0);
  });

  test("/sys/fs/cgroup is a read-only cgroup2 mount rooted at the container's own cgroup", async () => {
    const r = await run("grep ' /sys/fs/cgroup ' /proc/self/mounts | cut -d' ' -f3,4 | cut -d, -f1; grep ^0:: /proc/self/cgroup; wc -l < /sys/fs/cgroup/cgroup.procs; ls /sys/fs/cgroup | grep -c ctr-devtest", false);
    // One process in the cgroup (this shell... and its pipeline children: count > 0), no host cgroup dirs visible.
    const [mnt, cg, procs, hostDirs] = r.out.trim().split("\n");
    expect([mnt, cg, hostDirs]).toEqual(["cgroup2 ro", "0::/", "0"]);
    expect(Number(procs)).toBeGreaterThan(0);
  });

  test("without the program (--privileged) the same disk opens", async () => {
    const r = await run(probe, true);
    expect(r.out).toBe("mknod-ok\ndisk-open\nnull-ok\nzero-ok\n");
  });
});
