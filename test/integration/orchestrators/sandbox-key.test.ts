// NetworkSettings.SandboxKey as CNI plugins and Nomad's network hooks use it: a
// file under the exec root (dockerd: <exec-root>/netns/<12 hex>) that is a bind
// mount of the container's netns while it runs, and is gone after it stops.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { removeAllContainers, run, type TestDaemon } from "../../helpers/daemon.ts";
import type { TestDockerd } from "../../helpers/dockerd.ts";
import { replaySkip, startSides, stopSides, type Sides } from "./sides.ts";

setDefaultTimeout(120_000);
const skip = replaySkip("SandboxKey");

const mounted = (p: string) => readFileSync("/proc/self/mountinfo", "utf8").split("\n").some((l) => l.split(" ")[4] === p);

describe.skipIf(!!skip)("SandboxKey: a netns file under the exec root", () => {
  let peers: Sides;
  let bb: string;
  let d: TestDaemon;
  let dkr: TestDockerd | undefined;
  beforeAll(async () => {
    peers = await startSides();
    ({ bb, ctr: d, dkr } = peers);
  });
  afterAll(async () => {
    await removeAllContainers(d);
    await stopSides(peers, []);
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
});
