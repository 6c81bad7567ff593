import { afterAll, describe, expect, test } from "bun:test";
import { removeScratch } from "../../helpers/tmp.ts";
import { fakeWorld } from "./fakes.ts";
import { ConflictError, InvalidParameterError, NotFoundError, NotModifiedError } from "../../../src/engine/errors.ts";

afterAll(removeScratch);

const until = async (cond: () => boolean) => {
  for (let i = 0; i < 500 && !cond(); i++) await Bun.sleep(2);
  if (!cond()) throw new Error("condition never held");
};

describe("container lifecycle", () => {
  test("create merges the image config and refuses what Docker refuses", async () => {
    const { svc, store } = fakeWorld();
    const { Id } = await svc.create("web", { Image: "busybox", Env: ["A=2", "B=3"] });
    const c = store.get(Id);
    expect(c.name).toBe("web");
    expect(c.config.Cmd).toEqual(["sh"]);
    expect(c.config.Env).toEqual(["A=2", "B=3", "PATH=/bin"]); // dockerd: the user's first, then the image's
    expect(c.config.Hostname).toBe(Id.slice(0, 12));
    expect(c.state.Status).toBe("created");
    await expect(svc.create("web", { Image: "busybox" })).rejects.toBeInstanceOf(ConflictError);
    await expect(svc.create(undefined, { Image: "nope" })).rejects.toBeInstanceOf(NotFoundError);
    await expect(svc.create("bad name!", { Image: "busybox" })).rejects.toBeInstanceOf(InvalidParameterError);
    await expect(svc.create(undefined, { Image: "busybox", HostConfig: { AutoRemove: true, RestartPolicy: { Name: "always" } } })).rejects.toThrow("AutoRemove");
    const ep = await svc.create(undefined, { Image: "busybox", Entrypoint: ["/bin/echo"] });
    expect(store.get(ep.Id).config.Cmd).toBeNull(); // a user entrypoint drops the image's Cmd
  });

  test("start → exit records state, wakes waiters and ends attached streams after output", async () => {
    const { svc, store, procs, events } = fakeWorld();
    const { Id } = await svc.create(undefined, { Image: "busybox", Cmd: ["echo", "hi"] });
    const seen: string[] = [];
    let ended = false;
    svc.attach(Id, { onOutput: (s, b) => seen.push(`${s}:${Buffer.from(b).toString()}`), onEnd: () => (ended = true) });
    const next = svc.wait(Id, "next-exit");
    await svc.start(Id);
    expect(store.get(Id).state).toMatchObject({ Status: "running", Running: true, Pid: procs[0]!.pid });
    expect(store.get(Id).networkSettings).toEqual({ Networks: { bridge: { IPAddress: "10.9.0.2" } } });
    await expect(svc.start(Id)).rejects.toBeInstanceOf(NotModifiedError);
    procs[0]!.stdout.write("hi\n");
    procs[0]!.stderr.write("oops\n");
    procs[0]!.exit(3);
    expect(await next).toEqual({ StatusCode: 3, Error: null });
    expect(ended).toBe(true);
    expect(seen).toEqual(["1:hi\n", "2:oops\n"]);
    expect(store.get(Id).state).toMatchObject({ Status: "exited", Running: false, ExitCode: 3, Pid: 0 });
    expect(await svc.wait(Id, "not-running")).toEqual({ StatusCode: 3, Error: null });
    expect(events.map((e) => e.Action)).toEqual(["create", "attach", "start", "die"]);
  });

  test("stdin sent before start reaches the process, and StdinOnce closes it", async () => {
    const { svc, procs } = fakeWorld();
    const { Id } = await svc.create(undefined, { Image: "busybox", Cmd: ["cat"], OpenStdin: true, StdinOnce: true, AttachStdin: true });
    const { hub } = svc.attach(Id, { onOutput: () => {}, onEnd: () => {} });
    hub.writeStdin(new TextEncoder().encode("abc"));
    hub.endStdin();
    await svc.start(Id);
    const p = procs[0]!;
    await until(() => p.stdin.writableEnded);
    expect(Buffer.concat(p.stdinData).toString()).toBe("abc");
    p.exit(0);
  });

  test("AutoRemove removes after exit and wakes `removed` waiters", async () => {
    const { svc, store, procs, rootfsMade } = fakeWorld();
    const { Id } = await svc.create(undefined, { Image: "busybox", HostConfig: { AutoRemove: true } });
    const removed = svc.wait(Id, "removed");
    await svc.start(Id);
    procs[0]!.exit(0);
    expect(await removed).toEqual({ StatusCode: 0, Error: null });
    expect(store.find(Id)).toBeNull();
    expect(rootfsMade).toEqual([]);
  });

  test("a start after an exit waits for the exit's cgroup cleanup (the new cgroup takes the same id)", async () => {
    const { svc, procs, order } = fakeWorld();
    const { Id } = await svc.create(undefined, { Image: "busybox" });
    await svc.start(Id);
    const exited = svc.wait(Id, "next-exit");
    procs[0]!.exit(0);
    await exited;
    await svc.start(Id);
    expect(order).toEqual([`start ${Id}`, `cleanup ${Id}`, `start ${Id}`]);
    procs[1]!.exit(0);
  });

  test("stop sends the stop signal, then SIGKILL after the timeout", async () => {
    const { svc, store, procs } = fakeWorld();
    const { Id } = await svc.create(undefined, { Image: "busybox", StopSignal: "SIGUSR1" });
    await svc.start(Id);
    const p = procs[0]!;
    await svc.stop(Id, { timeout: 0 });
    expect(p.signals).toEqual([10, 9]);
    expect(store.get(Id).state).toMatchObject({ Status: "exited", ExitCode: 137 });
    await expect(svc.stop(Id)).rejects.toBeInstanceOf(NotModifiedError);
  });

  test("rm refuses a running container unless forced", async () => {
    const { svc, store } = fakeWorld();
    const { Id } = await svc.create("xx", { Image: "busybox" });
    await svc.start(Id);
    await expect(svc.remove(Id)).rejects.toThrow("You cannot remove a running container");
    await svc.remove("xx", { force: true });
    expect(store.find(Id)).toBeNull();
  });

  test("restart policy on-failure:2 restarts twice, then stops", async () => {
    const { svc, store, procs } = fakeWorld();
    const { Id } = await svc.create(undefined, { Image: "busybox", HostConfig: { RestartPolicy: { Name: "on-failure", MaximumRetryCount: 2 } } });
    await svc.start(Id);
    procs[0]!.exit(1);
    await until(() => procs.length === 2 && store.get(Id).state.Running);
    procs[1]!.exit(1);
    await until(() => procs.length === 3 && store.get(Id).state.Running);
    const final = svc.wait(Id, "not-running");
    procs[2]!.exit(1);
    expect(await final).toEqual({ StatusCode: 1, Error: null });
    expect(store.get(Id)).toMatchObject({ restartCount: 2, state: { Status: "exited", Restarting: false } });
  });

  test("wait on a --restart always container returns at the first exit, as dockerd's", async () => {
    const { svc, store, procs } = fakeWorld();
    const { Id } = await svc.create(undefined, { Image: "busybox", HostConfig: { RestartPolicy: { Name: "always" } } });
    await svc.start(Id);
    const first = svc.wait(Id, "not-running");
    procs[0]!.exit(3);
    expect(await first).toEqual({ StatusCode: 3, Error: null });
    await until(() => procs.length === 2 && store.get(Id).state.Running);
    const second = svc.wait(Id, "not-running");
    procs[1]!.exit(4);
    expect(await second).toEqual({ StatusCode: 4, Error: null });
    await until(() => procs.length === 3);
    await svc.remove(Id, { force: true });
  });

  test("reconcile after a daemon crash records running containers as exited", async () => {
    const { svc, store } = fakeWorld();
    const { Id } = await svc.create(undefined, { Image: "busybox" });
    const c = store.get(Id);
    c.state = { ...c.state, Status: "running", Running: true, Pid: 999999 };
    store.save(c);
    await svc.reconcile();
    expect(store.get(Id).state).toMatchObject({ Status: "exited", Running: false, ExitCode: 137 });
    expect(store.get(Id).state.Error).toContain("daemon");
  });

  test("rename keeps names unique", async () => {
    const { svc, store } = fakeWorld();
    const a = await svc.create("aa", { Image: "busybox" });
    await svc.create("bb", { Image: "busybox" });
    expect(() => svc.rename("aa", "bb")).toThrow(ConflictError);
    svc.rename("aa", "cc");
    expect(store.get(a.Id).name).toBe("cc");
  });
});
