// The lifecycle's side of --live-restore against fakes: adopt() takes back
// what the runtime still holds, records exits that happened while no daemon
// ran, and leaves the rest to reconcile's crash branch; shutdown leaves
// containers running.
import { describe, expect, test } from "bun:test";
import { FakeProcess, fakeWorld } from "./fakes.ts";
import type { ProcessHandle } from "../../../src/engine/containers/ports.ts";

async function until(cond: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await Bun.sleep(2);
  }
}

/** A world with one container recorded as running by a previous daemon (pid 4242). */
async function running(restore: (pid: number) => ProcessHandle | null, policy = "on-failure") {
  const w = fakeWorld({ restore: (c) => restore(c.state.Pid), liveRestore: true });
  const { Id } = await w.svc.create("web", { Image: "busybox", HostConfig: { RestartPolicy: { Name: policy, MaximumRetryCount: policy === "no" ? 0 : 3 } } });
  const c = w.store.get(Id);
  c.state = { ...c.state, Status: "running", Running: true, Pid: 4242, StartedAt: "2026-01-01T00:00:00.000000000Z" };
  w.store.save(c);
  return { ...w, Id };
}

describe("live restore in the lifecycle", () => {
  test("a held container is taken back as it was: same pid and start time, output relayed, stop works", async () => {
    const held = new FakeProcess();
    held.pid = 4242;
    const w = await running((pid) => (pid === 4242 ? held : null));
    expect(w.svc.adopt()).toBe(1);
    await w.svc.reconcile();
    expect(w.store.get(w.Id).state).toMatchObject({ Status: "running", Running: true, Pid: 4242, StartedAt: "2026-01-01T00:00:00.000000000Z" });
    const seen: string[] = [];
    w.svc.attach(w.Id, { onOutput: (_s, c) => seen.push(Buffer.from(c).toString()), onEnd: () => {} });
    held.stdout.write("after restart\n");
    await until(() => seen.length > 0);
    expect(seen).toEqual(["after restart\n"]);
    await w.svc.stop(w.Id, { timeout: 5 });
    expect(held.signals).toEqual([15]);
    expect(w.store.get(w.Id).state).toMatchObject({ Status: "exited", ExitCode: 143, Pid: 0 });
  });

  test("an exit recorded while no daemon ran gets its code and time, then the restart policy", async () => {
    const ended: ProcessHandle = { pid: 0, stdin: null, stdout: null, stderr: null, kill: () => {}, exited: Promise.resolve({ exitCode: 7, signal: null, oomKilled: false, finishedAt: "2026-01-01T00:00:05.000000000Z" }) };
    const w = await running(() => ended);
    expect(w.svc.adopt()).toBe(1);
    const exit = w.svc.wait(w.Id, "next-exit");
    // Not recorded before networking has reconciled (reconcile() marks that): an exit releases endpoints.
    await new Promise((r) => setImmediate(r));
    expect(w.store.get(w.Id).state.Running).toBe(true);
    await w.svc.reconcile();
    expect(await exit).toEqual({ StatusCode: 7, Error: null });
    await until(() => w.store.get(w.Id).restartCount === 1 && w.store.get(w.Id).state.Running);
    expect(w.events.map((e) => e.Action)).toContain("die");
    expect(w.procs.length).toBe(1);
  });

  test("a container the runtime does not hold is ended as after a crash (137)", async () => {
    const w = await running(() => null, "no");
    expect(w.svc.adopt()).toBe(0);
    await w.svc.reconcile();
    expect(w.store.get(w.Id).state).toMatchObject({ Status: "exited", ExitCode: 137 });
  });

  test("shutdown leaves running containers alone", async () => {
    const w = fakeWorld({ liveRestore: true });
    const { Id } = await w.svc.create("alone", { Image: "busybox" });
    await w.svc.start(Id);
    await w.svc.shutdown(1);
    expect(w.procs[0]!.signals).toEqual([]);
    expect(w.store.get(Id).state.Running).toBe(true);
  });
});
