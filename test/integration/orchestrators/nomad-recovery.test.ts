// What Nomad's docker driver does after its client restarts (hashicorp/nomad
// drivers/docker: driver.go RecoverTask, handle.go run, docklog/docker_logger.go
// Start), replayed through the API: GET /info, inspect of the container id it
// stored, a new log follower from "now" (unix seconds) that re-follows at EOF
// while inspect says Running, and a re-wait (condition not-running) whose
// StatusCode is the task's exit; then inspect for OOMKilled and a stop with
// t=0 (304: not running). On ctr and dockerd; then on ctr across a daemon
// restart with --live-restore while the Nomad client was down.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { DIST, removeAllContainers, startDaemon, until, type TestDaemon } from "../../helpers/daemon.ts";
import type { Api } from "./api.ts";
import { replaySkip, sideOf, useSides, type Side } from "./sides.ts";

setDefaultTimeout(120_000);
const skip = replaySkip("Nomad restart-recovery replays");
if (!skip && !existsSync(DIST)) console.warn("Nomad recovery across a ctr restart is skipped: it runs dist/ctr (bun run build first)");

/** The API version Nomad's moby client negotiates with dockerd 20.10. */
const V = "1.41";
/** The task: a line, then one per trigger file the test drops into /x, then exit 7 (no timing in the test). */
const TASK = "echo before; while [ ! -e /x/go ]; do sleep 0.05; done; echo after; while [ ! -e /x/end ]; do sleep 0.05; done; echo bye; exit 7";

interface Follower {
  lines: string[];
  /** How it ended: "exited" (inspect said not running after EOF), "stopped" (by the test), "gone" (404). */
  ended: Promise<string>;
  stop(): void;
}

/** Docker's stdcopy frames (8-byte header: stream, 0,0,0, big-endian size) into text lines. */
function demux(buf: Buffer, out: string[]): Buffer {
  while (buf.length >= 8) {
    const size = buf.readUInt32BE(4);
    if (buf.length < 8 + size) break;
    out.push(...buf.subarray(8, 8 + size).toString().split("\n").filter(Boolean));
    buf = buf.subarray(8 + size);
  }
  return buf;
}

/** docklog's loop: follow since `since`; at EOF since = now, inspect, follow again while Running. */
function docklog(sock: string, api: Api, id: string, since: number): Follower {
  const lines: string[] = [];
  const ctl = new AbortController();
  const loop = async (): Promise<string> => {
    for (;;) {
      try {
        const res = await fetch(`http://localhost/v${V}/containers/${id}/logs?follow=1&stdout=1&stderr=1&since=${since}.000000000`, { unix: sock, signal: ctl.signal } as RequestInit);
        let rest: Buffer = Buffer.alloc(0);
        for await (const chunk of res.body!) rest = demux(Buffer.concat([rest, Buffer.from(chunk)]), lines);
      } catch {
        if (ctl.signal.aborted) return "stopped";
        // Nomad backs off and tries again after a transient error (a daemon that is restarting).
        await Bun.sleep(100);
        continue;
      }
      since = Math.floor(Date.now() / 1000);
      const ins = await api("GET", `/containers/${id}/json`);
      if (ins.status === 404) return "gone";
      if (!ins.body.State.Running) return "exited";
    }
  };
  return { lines, ended: loop(), stop: () => ctl.abort() };
}

/** handle.run's ContainerWait on the "infinity" client; abortable as a Nomad client that goes away. */
function waitFor(sock: string, id: string): { result: Promise<{ StatusCode: number } | "aborted">; abort(): void } {
  const ctl = new AbortController();
  const result = fetch(`http://localhost/v${V}/containers/${id}/wait?condition=not-running`, { method: "POST", unix: sock, signal: ctl.signal } as RequestInit)
    .then((r) => r.json() as Promise<{ StatusCode: number }>)
    .catch(() => "aborted" as const);
  return { result, abort: () => ctl.abort() };
}

describe.skipIf(!!skip)("Nomad restart recovery replays", () => {
  const s = useSides(["nomad-task"]);
  const x = mkdtempSync(join(tmpdir(), "ctr-nomad-"));
  afterAll(() => rmSync(x, { recursive: true, force: true }));

  /** StartTask, then the Nomad client goes (its follower and wait with it), then RecoverTask on `recover()`'s side. */
  async function replay(side: Side, sock: string, trig: string, between: () => Promise<{ side: Side; sock: string }>) {
    rmSync(trig, { recursive: true, force: true });
    const create = await side.api("POST", `/v${V}/containers/create?name=nomad-task`, {
      Image: s.bb,
      Cmd: ["sh", "-c", TASK],
      Labels: { "com.hashicorp.nomad.alloc_id": "a1", "com.hashicorp.nomad.task_name": "web" },
      HostConfig: { Binds: [`${trig}:/x`] },
    });
    expect(create.status).toBe(201);
    const id = create.body.Id as string;
    expect((await side.api("POST", `/v${V}/containers/${id}/start`)).status).toBe(204);
    const first = docklog(sock, side.api, id, 0);
    const firstWait = waitFor(sock, id);
    await until(() => first.lines.includes("before"), `${side.name}: the first follower sees "before"`);
    const pid = (await side.api("GET", `/v${V}/containers/${id}/json`)).body.State.Pid as number;
    // The Nomad client stops: its connections go; the task does not.
    first.stop();
    firstWait.abort();
    expect(await first.ended).toBe("stopped");
    expect(await firstWait.result).toBe("aborted");
    const after = await between();
    // "since now" is whole seconds: let the second of "before" pass, so only what follows is new.
    const beforeSec = Math.floor(Date.parse((await after.side.docker(["logs", "-t", id])).stdout.split(" ")[0]!) / 1000);
    await until(() => Math.floor(Date.now() / 1000) > beforeSec, "the second of \"before\" to pass");
    // RecoverTask: /info, inspect the stored id, a new follower since now, a new wait.
    const info = await after.side.api("GET", `/v${V}/info`);
    expect(["cgroupfs", "systemd"]).toContain(info.body.CgroupDriver);
    const ins = (await after.side.api("GET", `/v${V}/containers/${id}/json`)).body;
    expect([ins.State.Running, ins.State.Pid]).toEqual([true, pid]);
    const second = docklog(after.sock, after.side.api, id, Math.floor(Date.now() / 1000));
    const wait = waitFor(after.sock, id);
    writeFileSync(join(trig, "go"), "");
    await until(() => second.lines.includes("after"), `${side.name}: the new follower sees "after"`);
    writeFileSync(join(trig, "end"), "");
    const exit = await wait.result;
    expect(await second.ended).toBe("exited");
    const end = (await after.side.api("GET", `/v${V}/containers/${id}/json`)).body.State;
    const stop = await after.side.api("POST", `/v${V}/containers/${id}/stop?t=0`);
    const rm = await after.side.api("DELETE", `/v${V}/containers/${id}?force=1&v=1`);
    return { exit, lines: second.lines, oom: end.OOMKilled, code: end.ExitCode, stop: stop.status, rm: rm.status };
  }

  const expected = { exit: { Error: null, StatusCode: 7 }, lines: ["after", "bye"], oom: false, code: 7, stop: 304, rm: 204 };

  test("Nomad client restart: re-inspect, re-follow since now (only new lines), re-wait gives the exit code; ctr and dockerd agree", async () => {
    const seen = [];
    for (const side of s.all) {
      const sock = side.name === "ctr" ? s.ctr.sock : s.dkr!.sock;
      const trig = join(x, side.name);
      seen.push(await replay(side, sock, trig, async () => ({ side, sock })));
    }
    expect(seen[0]).toEqual(expected);
    for (const r of seen) expect(r).toEqual(seen[0]!);
  });

  test.skipIf(!existsSync(DIST))("ctr restarts with --live-restore while the Nomad client is down: the task runs on, the recovery re-follows and the wait returns 7", async () => {
    let d: TestDaemon | undefined = await startDaemon(["--live-restore"], undefined, { bin: DIST });
    const dir = d.dir;
    try {
      expect((await d.docker(["pull", "-q", s.bb])).code).toBe(0);
      const side = sideOf("ctr", d.sock, (a) => d!.docker(a));
      const r = await replay(side, d.sock, join(x, "live"), async () => {
        await d!.stop();
        d = await startDaemon(["--live-restore"], { dir }, { bin: DIST });
        return { side: sideOf("ctr", d.sock, (a) => d!.docker(a)), sock: d.sock };
      });
      expect(r).toEqual(expected);
    } finally {
      if (d?.proc.exitCode === null) await removeAllContainers(d);
      await d?.[Symbol.asyncDispose]();
    }
  });
});

