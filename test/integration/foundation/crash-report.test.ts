// A daemon that dies leaves its log intact and the next one says so in one line.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { isRoot, startDaemon } from "../../helpers/daemon.ts";

if (!isRoot) console.warn("skip: the daemon needs root");

const DIED = /did not shut down cleanly; its log \(and any crash report at its end\): ([^\s"]+)/g;

describe.skipIf(!isRoot)("crash report", () => {
  test("after kill -9 the next start names the dead daemon and its log; a clean stop leaves nothing to say", async () => {
    const first = await startDaemon();
    await using _ = first;
    const firstPid = first.proc.pid;
    await first.kill9();
    const second = await startDaemon([], { dir: first.dir }, { appendLog: true });
    const log = () => readFileSync(join(first.dir, "daemon.log"), "utf8");
    // Appended, not truncated: the first daemon's lines are still there.
    expect(log()).toContain(`pid=${firstPid}`);
    const warnings = [...log().matchAll(DIED)];
    expect(warnings.length).toBe(1);
    expect(warnings[0]![1]).toBe(join(first.dir, "daemon.log"));
    expect(log()).toContain(`the previous daemon (pid ${firstPid},`);
    await second.stop();
    const third = await startDaemon([], { dir: first.dir }, { appendLog: true });
    await third.stop();
    expect([...log().matchAll(DIED)].length).toBe(1);
  });
});
