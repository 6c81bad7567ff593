// NetworkSettings.SandboxKey as CNI plugins and Nomad's network hooks use it: a
// file under the exec root (dockerd: <exec-root>/netns/<12 hex>) that is a bind
// mount of the container's netns while it runs, and is gone after it stops.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { isRoot, removeAllContainers, run, startDaemon, type TestDaemon } from "../../helpers/daemon.ts";
import { dockerdSkipReason, startDockerd, type TestDockerd } from "../../helpers/dockerd.ts";
import { haveRegistry, seedBusybox, startRegistry, type RunningRegistry } from "../../helpers/registry.ts";

setDefaultTimeout(120_000);
const skip = !isRoot ? "needs root" : !haveRegistry ? "needs docker-registry" : undefined;
if (skip) console.warn(`skip: SandboxKey: ${skip}`);

const mounted = (p: string) => readFileSync("/proc/self/mountinfo", "utf8").split("\n").some((l) => l.split(" ")[4] === p);

describe.skipIf(!!skip)("SandboxKey: a netns file under the exec root", () => {
  let reg: RunningRegistry;
  let bb: string;
  let d: TestDaemon;
  let dkr: TestDockerd | undefined;
  beforeAll(async () => {
    reg = await startRegistry();
    bb = await seedBusybox(reg.host);
    [d, dkr] = await Promise.all([startDaemon(), dockerdSkipReason ? undefined : startDockerd()]);
    expect((await d.docker(["pull", "-q", bb])).code).toBe(0);
    if (dkr) expect((await dkr.docker(["pull", "-q", bb])).code).toBe(0);
  });
  afterAll(async () => {
    await removeAllContainers(d);
    await dkr?.docker(["rm", "-f", "sk"]);
    await Promise.all([d?.[Symbol.asyncDispose](), dkr?.[Symbol.asyncDispose]()]);
    await reg?.stop();
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
