// The differential harness itself: one scenario run against Debian's dockerd and
// against ctr, answers normalised and compared; a difference not listed in
// intended-differences.ts fails.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { hasDocker, type TestDaemon } from "../helpers/daemon.ts";
import { dockerdSkipReason, startPeers, stopPeers, type TestDockerd } from "../helpers/dockerd.ts";
import { differences, normalise } from "../helpers/normalise.ts";
import type { RunningRegistry } from "../helpers/registry.ts";
import { intended } from "./intended-differences.ts";

setDefaultTimeout(120_000);
const skip = dockerdSkipReason ?? (hasDocker ? undefined : "needs the docker CLI");
if (skip) console.warn(`skip: differential smoke: ${skip}`);

describe.skipIf(!!skip)("differential: dockerd vs ctr", () => {
  let reg: RunningRegistry;
  let bb: string;
  let ctr: TestDaemon;
  let dkr: TestDockerd;
  beforeAll(async () => {
    ({ reg, bb, ctr, dkr } = await startPeers());
  });
  afterAll(async () => {
    await ctr?.docker(["rm", "-f", "smoke1"]);
    await stopPeers({ reg, ctr, dkr });
  });

  const both = async (args: string[]) => Promise.all([dkr.docker(args), ctr.docker(args)]);

  test("run: exit code, stdout and stderr agree", async () => {
    await both(["pull", "-q", bb]);
    const [d, c] = await both(["run", "--rm", bb, "sh", "-c", "echo out; echo err >&2; exit 3"]);
    expect(c).toEqual(d);
    expect(d.code).toBe(3);
  });

  test("create + inspect: Config agrees after normalising", async () => {
    const args = ["create", "--name", "smoke1", "-e", "A=1", "-w", "/tmp", "--label", "x=y", bb, "sleep", "5"];
    const [d, c] = await both(args);
    expect([d.code, c.code]).toEqual([0, 0]);
    const [di, ci] = await both(["inspect", "--format", "{{json .Config}}", "smoke1"]);
    const norm = (s: string) => normalise(JSON.parse(s), { replace: { [reg.host]: "<registry>" } });
    const diff = differences(norm(di.stdout), norm(ci.stdout)).filter((p) => !intended(`smoke/inspect/${p}`));
    expect(diff).toEqual([]);
  });
});
