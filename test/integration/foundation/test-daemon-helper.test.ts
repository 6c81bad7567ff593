// The test helper's own promise: a daemon that does not answer in time is not left behind.
// An orphan keeps its bridge, nft table and cgroups for the rest of the suite (and a hung one,
// asleep in state D, its test dir), so startDaemon stops it by pid and cleans what it made.
import { describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { isRoot, pidAlive, startDaemon } from "../../helpers/daemon.ts";
import { tableForBridge } from "../../../src/engine/network/nft.ts";

const why = !isRoot ? "the stand-in makes a bridge and an nft table as a daemon does: needs root" : !Bun.which("nft") ? "nft is not installed" : "";
if (why) console.warn(`skip: ${why}`);

describe.skipIf(!!why)("startDaemon, when the daemon does not answer", () => {
  test("stops it by its pid, removes its bridge, nft table and test dir, and throws with the end of its log", async () => {
    const scratch = mkdtempSync(join(tmpdir(), "ctr-stuck-daemon-"));
    const made = (f: string) => (existsSync(join(scratch, f)) ? readFileSync(join(scratch, f), "utf8").trim() : "");
    try {
      // A daemon stuck before it listens: it makes what a real one makes first, logs a line, never answers.
      const stuck = join(scratch, "ctr");
      writeFileSync(
        stuck,
        `#!/bin/sh
while [ $# -gt 0 ]; do case "$1" in --root) root=$2;; --bridge) bridge=$2;; esac; shift; done
ip link add "$bridge" type bridge && nft add table ip "ctr_$bridge" || exit 1
echo "$root" > ${scratch}/root; echo "$bridge" > ${scratch}/bridge; echo $$ > ${scratch}/pid
echo "stuck before listening"
exec sleep 600
`,
      );
      chmodSync(stuck, 0o755);
      const err = await startDaemon([], undefined, { bin: stuck, answerMs: 5_000 }).then(
        () => new Error("startDaemon answered"),
        (e: Error) => e,
      );
      const [pid, bridge, root] = [Number(made("pid")), made("bridge"), made("root")];
      expect(tableForBridge(bridge)).toBe(`ctr_${bridge}`); // the table the stand-in made
      expect(err.message).toStartWith("timed out waiting for daemon to answer");
      expect(err.message).toContain(`pid ${pid} then: state S`);
      expect(err.message).toEndWith("stuck before listening\n");
      expect(pidAlive(pid)).toBe(false);
      expect(existsSync(dirname(root))).toBe(false);
      expect(Bun.spawnSync(["ip", "link", "show", bridge], { stderr: "ignore" }).exitCode).not.toBe(0);
      expect(Bun.spawnSync(["nft", "list", "table", "ip", tableForBridge(bridge)], { stderr: "ignore" }).exitCode).not.toBe(0);
    } finally {
      // Only if the helper left them: this test leaves nothing either.
      const pid = Number(made("pid"));
      if (pid && pidAlive(pid)) process.kill(pid, "SIGKILL");
      if (made("bridge")) {
        Bun.spawnSync(["ip", "link", "del", made("bridge")], { stderr: "ignore" });
        Bun.spawnSync(["nft", "delete", "table", "ip", tableForBridge(made("bridge"))], { stderr: "ignore" });
      }
      if (made("root")) rmSync(dirname(made("root")), { recursive: true, force: true });
      rmSync(scratch, { recursive: true, force: true });
    }
  }, 60_000);
});
