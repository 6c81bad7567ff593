// The docker SDK for Python (Debian's python3-docker) driving dockerd and ctr
// through the same scenarios (test/differential/python/scenarios.py): what the
// SDK returns — values, exit codes, outputs, errors — is normalised and must be
// the same, except the differences listed in intended-differences.ts.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { join } from "node:path";
import { run, type TestDaemon } from "../helpers/daemon.ts";
import { dockerdSkipReason, startPeers, stopPeers, type TestDockerd } from "../helpers/dockerd.ts";
import { differences, normalise } from "../helpers/normalise.ts";
import type { RunningRegistry } from "../helpers/registry.ts";
import { intended } from "./intended-differences.ts";

setDefaultTimeout(180_000);

const PYTHON = "/usr/bin/python3"; // Debian's, where python3-docker is installed
const havePy = Bun.spawnSync([PYTHON, "-c", "import docker"], { stderr: "ignore" }).exitCode === 0;
const skip = dockerdSkipReason ?? (havePy ? undefined : "needs python3-docker (scripts/setup-debian.sh installs it)");
if (skip) console.warn(`skip: differential docker-py: ${skip}`);

const SCRIPT = join(import.meta.dir, "python/scenarios.py");

describe.skipIf(!!skip)("differential: docker-py against dockerd and ctr", () => {
  let reg: RunningRegistry;
  let bb: string;
  let ctr: TestDaemon;
  let dkr: TestDockerd;
  beforeAll(async () => {
    ({ reg, bb, ctr, dkr } = await startPeers());
    // Both pull the same image first, so every scenario starts from the same store.
    const pulled = await Promise.all([dkr.docker(["pull", "-q", bb]), ctr.docker(["pull", "-q", bb])]);
    expect(pulled.map((p) => p.code)).toEqual([0, 0]);
  });
  afterAll(async () => {
    await stopPeers({ reg, ctr, dkr });
  });

  /** Runs one scenario on both daemons at once; returns the normalised answers. */
  async function both(scenario: string): Promise<[unknown, unknown]> {
    const once = async (host: string) => {
      const r = await run([PYTHON, SCRIPT, scenario, bb], { env: { DOCKER_HOST: host } });
      if (r.code !== 0) throw new Error(`${scenario} against ${host} failed (${r.code}):\n${r.stderr.split("\n").slice(-15).join("\n")}`);
      return normalise(JSON.parse(r.stdout), { replace: { [reg.host]: "<registry>" } });
    };
    return Promise.all([once(dkr.host), once(ctr.host)]);
  }

  /** The differences of one scenario that are not listed as intended. */
  async function unintended(scenario: string): Promise<{ path: string; dockerd: unknown; ctr: unknown }[]> {
    const [d, c] = await both(scenario);
    const at = (v: unknown, path: string) => path.split(/[.[\]]/).filter(Boolean).reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], v);
    return differences(d, c)
      .filter((p) => !intended(`docker-py/${scenario}/${p}`))
      .map((path) => ({ path, dockerd: at(d, path), ctr: at(c, path) }));
  }

  for (const scenario of ["containers", "exec", "attach", "networks", "volumes", "images", "health", "build", "update", "prune", "streams", "swarm"]) {
    test(scenario, async () => {
      expect(await unintended(scenario)).toEqual([]);
    });
  }
});
