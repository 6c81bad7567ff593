// A short soak (scripts/soak.ts, fewer scenarios): the daemon must stay up
// under parallel real-client load with streams stalled and abandoned mid-way,
// and give back its fds and threads afterwards. No timing is asserted.
import { describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { DIST, isRoot } from "../../helpers/daemon.ts";
import { haveRegistry } from "../../helpers/registry.ts";
import { haveBusybox } from "../../../scripts/fixtures/images.ts";
import { runSoak } from "../../../scripts/soak/run.ts";

const why = !isRoot ? "the soak runs containers: needs root" : !haveRegistry ? "docker-registry is not installed" : !haveBusybox ? "busybox-static is not installed" : !existsSync(DIST) ? "dist/ctr not built (bun run build)" : "";
if (why) console.warn(`skip: ${why}`);

describe.skipIf(!!why)("soak", () => {
  test(
    "the daemon survives a short soak and its fds and threads come back",
    async () => {
      const lines: string[] = [];
      const r = await runSoak({ durationS: 45, parallel: 3, maxOps: 120, sampleEveryS: 5, seed: 18, print: (l) => lines.push(l) });
      if (!r.ok) console.error(lines.join("\n"));
      expect(r.problems).toEqual([]);
      expect(r.idleAfter).not.toBeNull();
      expect(r.ops).toBeGreaterThan(0);
    },
    300_000,
  );
});
