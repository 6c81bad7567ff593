// NetworkSettings.SandboxKey as CNI plugins and Nomad's network hooks use it: a
// file under the exec root (dockerd: <exec-root>/netns/<12 hex>) that is a bind
// mount of the container's netns while it runs, and is gone after it stops.
import { beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { removeAllContainers, run, startDaemon, type TestDaemon } from "../../helpers/daemon.ts";
import type { TestDockerd } from "../../helpers/dockerd.ts";
import { replaySkip, useSides } from "./sides.ts";

setDefaultTimeout(120_000);
const skip = replaySkip("SandboxKey");

const mounted = (p: string) => readFileSync("/proc/self/mountinfo", "utf8").split("\n").some((l) => l.split(" ")[4] === p);

describe.skipIf(!!skip)("SandboxKey: a netns file under the exec root", () => {
  const peers = useSides();
  let bb: string;
  let d: TestDaemon;
  let dkr: TestDockerd | undefined;
  // Stopping a daemon stops (ctr) or removes (dockerd) what still runs.
  beforeAll(() => {
    ({ bb, ctr: d, dkr } = peers);
  });

  test("bridge and none: <exec root>/netns/<12 hex>, a mount of the container's netns, removed when it stops", async () => {
    for (const net of ["bridge", "none"]) {
      const id = (await d.docker(["run", "-d", "--network", net, bb, "sleep", "300"])).stdout.trim();
      const key = (await d.docker(["inspect", "-f", "{{.NetworkSettings.SandboxKey}}", id])).stdout.trim();
      expect(key).toBe(join(d.dir, "run", "netns", id.slice(0, 12)));
      expect(mounted(key)).toBe(true);
      // The file is the container's netns: the same inode /proc/<pid>/ns/net names.
      const pid = (await d.docker(["inspect", "-f", "{{.State.Pid}}", id])).stdout.trim();
      const viaKey = await run(["nsenter", `--net=${key}`, "readlink", "/proc/self/ns/net"]);
      expect(viaKey.stdout.trim()).toBe((await run(["readlink", `/proc/${pid}/ns/net`])).stdout.trim());
      expect((await d.docker(["stop", "-t", "0", id])).code).toBe(0);
      expect(existsSync(key)).toBe(false);
    }
    if (dkr) {
      // dockerd's shape, for comparison: <exec-root>/netns/<12 hex of its sandbox id>.
      await dkr.docker(["run", "-d", "--name", "sk", bb, "sleep", "300"]);
      const key = (await dkr.docker(["inspect", "-f", "{{.NetworkSettings.SandboxKey}}", "sk"])).stdout.trim();
      expect(key).toMatch(new RegExp(`^${join(dkr.dir, "exec", "netns")}/[0-9a-f]{12}$`));
    }
  });

  test("pins a daemon killed -9 (no --live-restore) left are swept at its next start; another daemon's pin is untouched", async () => {
    const other = await startDaemon();
    try {
      expect((await other.docker(["pull", "-q", bb])).code).toBe(0);
      const theirs = (await other.docker(["run", "-d", "--network", "none", bb, "sleep", "300"])).stdout.trim();
      const theirKey = (await other.docker(["inspect", "-f", "{{.NetworkSettings.SandboxKey}}", theirs])).stdout.trim();
      const id = (await d.docker(["run", "-d", bb, "sleep", "300"])).stdout.trim();
      const key = (await d.docker(["inspect", "-f", "{{.NetworkSettings.SandboxKey}}", id])).stdout.trim();
      // A pin with no container behind it (a crash between pinning and recording the start).
      const stray = join(d.dir, "run", "netns", "0123456789ab");
      writeFileSync(stray, "");
      expect((await run(["mount", "--bind", theirKey, stray])).code).toBe(0);
      expect([mounted(key), mounted(stray), mounted(theirKey)]).toEqual([true, true, true]);
      await d.kill9();
      // Still there after the crash: nobody unmounted them.
      expect([mounted(key), mounted(stray)]).toEqual([true, true]);
      d = await startDaemon([], { dir: d.dir });
      peers.ctr = d;
      expect([mounted(key), existsSync(key), mounted(stray), existsSync(stray)]).toEqual([false, false, false, false]);
      expect(mounted(theirKey)).toBe(true);
      expect((await other.docker(["inspect", "-f", "{{.State.Running}}", theirs])).stdout.trim()).toBe("true");
    } finally {
      await removeAllContainers(other);
      await other[Symbol.asyncDispose]();
    }
  });
});
