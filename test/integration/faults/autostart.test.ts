// `ctr -H unix:///other.sock …` with nothing listening there must not start a
// daemon over the default root; with CTR_ROOT it starts one on that root.
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CLI, isRoot, run, until } from "../../helpers/daemon.ts";

setDefaultTimeout(30_000);
if (!isRoot) console.warn("skip: starting a daemon on demand needs root");

describe.skipIf(!isRoot)("auto-start on another socket", () => {
  test("no daemon at -H unix:///other.sock: a one-line error, nothing started", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ctr-nostart-"));
    const sock = join(dir, "other.sock");
    try {
      const r = await run([process.execPath, CLI, "-H", `unix://${sock}`, "version"], { env: { CTR_ROOT: "", CTR_HOST: "" } });
      expect(r.code).not.toBe(0);
      expect(r.stderr.trim().split("\n")).toEqual([expect.stringContaining(`cannot connect to the ctr daemon at unix://${sock}`)]);
      expect(r.stderr).toContain("CTR_ROOT");
      expect(existsSync(sock)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("with CTR_ROOT the daemon starts on that root and serves that socket", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ctr-start-"));
    const root = join(dir, "root");
    const sock = join(dir, "other.sock");
    try {
      const r = await run([process.execPath, CLI, "-H", `unix://${sock}`, "version"], { env: { CTR_ROOT: root, CTR_HOST: "" } });
      expect(r.code).toBe(0);
      expect(r.stdout).toContain("Server: ctr");
      expect(readFileSync(join(root, "daemon.log"), "utf8")).toContain("daemon started");
    } finally {
      const lock = join(root, "ctr.lock");
      const pid = existsSync(lock) ? Number(readFileSync(lock, "utf8").trim()) : 0;
      if (pid > 0) {
        process.kill(pid, "SIGTERM");
        await until(() => !existsSync(`/proc/${pid}`) || readFileSync(`/proc/${pid}/stat`, "utf8").includes(") Z"), "daemon exit");
      }
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
