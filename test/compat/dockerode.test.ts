// dockerode (what Node scripts use to drive Docker) against a ctr daemon:
// every call goes through docker-modem over the unix socket, as it would with dockerd.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import type { Duplex, Readable } from "node:stream";
import Docker from "dockerode";
import { isRoot, startDaemon, until, type TestDaemon } from "../helpers/daemon.ts";
import { haveRegistry, seedBusybox, startRegistry } from "../helpers/registry.ts";
import { demux } from "../helpers/dockerode.ts";
import { frames } from "../helpers/stdcopy.ts";

setDefaultTimeout(60_000);

const ready = isRoot && haveRegistry;
if (!isRoot) console.warn("skip: containers need root");
else if (!haveRegistry) console.warn("skip: docker-registry not installed");

function ended(s: Readable): Promise<void> {
  return new Promise((resolve, reject) => {
    s.on("end", () => resolve());
    s.on("close", () => resolve());
    s.on("error", reject);
  });
}

async function expectHttpError(p: Promise<unknown>, status: number, message: string): Promise<void> {
  const err = (await p.then(
    () => undefined,
    (e: unknown) => e,
  )) as { statusCode?: number; json?: { message?: string }; message?: string } | undefined;
  expect(err).toBeDefined();
  expect(err!.statusCode).toBe(status);
  expect(err!.json?.message).toContain(message);
  expect(err!.message).toContain(`(HTTP code ${status})`);
}

describe.skipIf(!ready)("dockerode against ctr", () => {
  let d: TestDaemon;
  let reg: { host: string; stop(): Promise<void> };
  let bb: string;
  let docker: Docker;
  const created: string[] = [];

  beforeAll(async () => {
    reg = await startRegistry();
    bb = await seedBusybox(reg.host);
    d = await startDaemon();
    docker = new Docker({ socketPath: d.sock });
  });
  afterAll(async () => {
    for (const id of created) await docker?.getContainer(id).remove({ force: true }).catch(() => {});
    await d?.[Symbol.asyncDispose]();
    await reg?.stop();
  });

  async function create(opts: Docker.ContainerCreateOptions): Promise<Docker.Container> {
    const c = await docker.createContainer({ Image: bb, ...opts });
    created.push(c.id);
    return c;
  }

  test("ping and version", async () => {
    expect(String(await docker.ping())).toBe("OK");
    const v = await docker.version();
    expect(v.ApiVersion).toMatch(/^1\.\d+$/);
    expect(v.MinAPIVersion).toBe("1.24");
    expect(v.Os).toBe("linux");
  });

  test("pull with progress (followProgress)", async () => {
    const stream = (await docker.pull(bb)) as Readable;
    const seen: { status?: string; id?: string; progressDetail?: unknown }[] = [];
    const output = await new Promise<unknown[]>((resolve, reject) =>
      docker.modem.followProgress(stream, (err: Error | null, out: unknown[]) => (err ? reject(err) : resolve(out)), (ev: { status?: string }) => seen.push(ev)),
    );
    expect(output.length).toBe(seen.length);
    const statuses = seen.map((e) => e.status ?? "");
    expect(statuses[0]).toMatch(/^Pulling from .*library\/busybox$/);
    expect(statuses).toContain("Pull complete");
    expect(statuses.some((s) => /^Digest: sha256:[0-9a-f]{64}$/.test(s))).toBe(true);
    expect(statuses.at(-1)).toBe(`Status: Downloaded newer image for ${bb}`);
    expect(seen.filter((e) => e.status === "Pull complete").every((e) => /^[0-9a-f]{12}$/.test(e.id ?? ""))).toBe(true);
    const img = await docker.getImage(bb).inspect();
    expect(img.RepoTags).toContain(bb);
  });

  test("create, attach (hijacked, demuxed), start, stdin end → EOF, wait", async () => {
    const c = await create({ Cmd: ["sh", "-c", "cat; echo done >&2"], OpenStdin: true, StdinOnce: true, AttachStdin: true, AttachStdout: true, AttachStderr: true });
    const stream = (await c.attach({ stream: true, stdin: true, stdout: true, stderr: true, hijack: true })) as unknown as Duplex;
    const io = demux(docker, stream);
    const done = ended(stream);
    await c.start();
    stream.write("hello\n");
    stream.end(); // half-close: the container's stdin sees EOF, its output still flows back
    const res = await c.wait();
    await done;
    expect(res.StatusCode).toBe(0);
    expect(io.text()).toEqual({ stdout: "hello\n", stderr: "done\n" });
    const info = await c.inspect();
    expect(info.State).toMatchObject({ Status: "exited", Running: false, ExitCode: 0 });
  });

  test("wait returns the exit code; wait on a removed container is a 404", async () => {
    const c = await create({ Cmd: ["sh", "-c", "exit 5"] });
    // the default condition (not-running) answers at once for a created container, as dockerd does
    expect((await c.wait()).StatusCode).toBe(0);
    const w = c.wait({ condition: "next-exit" });
    await c.start();
    expect((await w).StatusCode).toBe(5);
    await c.remove();
    await expectHttpError(c.wait(), 404, `No such container: ${c.id}`);
  });

  test("logs: multiplexed, timestamps, tail, follow", async () => {
    // "late" is written only once the test has attached (it creates /tmp/go through exec)
    const script = "echo a; echo b >&2; echo c; until [ -e /tmp/go ]; do sleep 0.05; done; echo late; sleep 100";
    const c = await create({ Cmd: ["sh", "-c", script], name: "dlogs" });
    await c.start();
    await until(async () => frames(await c.logs({ stdout: true, stderr: true, follow: false })).length === 3, "three log lines");
    // stdout and stderr are separate pipes (as with dockerd), so only the order within each stream is fixed
    const all = frames(await c.logs({ stdout: true, stderr: true, follow: false }));
    expect(all.filter((f) => f.stream === 1)).toEqual([
      { stream: 1, text: "a\n" },
      { stream: 1, text: "c\n" },
    ]);
    expect(all.filter((f) => f.stream === 2)).toEqual([{ stream: 2, text: "b\n" }]);
    const onlyErr = frames(await c.logs({ stdout: false, stderr: true, follow: false }));
    expect(onlyErr).toEqual([{ stream: 2, text: "b\n" }]);
    const ts = frames(await c.logs({ stdout: true, stderr: true, timestamps: true, tail: 1, follow: false }));
    expect(ts.length).toBe(1);
    expect(ts[0]!.text).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z [bc]\n$/);

    // follow: the old lines, then a line written after we attached, and the stream ends when the container dies.
    const stream = (await c.logs({ stdout: true, stderr: true, follow: true })) as unknown as Readable;
    const io = demux(docker, stream);
    const done = ended(stream);
    const ex = await c.exec({ Cmd: ["touch", "/tmp/go"] });
    await ex.start({ Detach: true });
    await until(() => io.text().stdout === "a\nc\nlate\n", "followed line");
    await c.kill();
    await done;
    expect(io.text()).toEqual({ stdout: "a\nc\nlate\n", stderr: "b\n" });
    const none = frames(await c.logs({ stdout: true, stderr: true, tail: 0, follow: false }));
    expect(none).toEqual([]);
  });

  test("exec: attached (hijack, stdin), detached, inspect exit code", async () => {
    const c = await create({ Cmd: ["sleep", "100"], name: "dexec" });
    await c.start();
    const ex = await c.exec({ Cmd: ["sh", "-c", "cat; echo e >&2; exit 3"], AttachStdin: true, AttachStdout: true, AttachStderr: true, Env: ["X=1"], WorkingDir: "/tmp" });
    const stream = (await ex.start({ hijack: true, stdin: true })) as unknown as Duplex;
    const io = demux(docker, stream);
    const done = ended(stream);
    stream.write("in\n");
    stream.end();
    await done;
    expect(io.text()).toEqual({ stdout: "in\n", stderr: "e\n" });
    await until(async () => (await ex.inspect()).Running === false, "exec to finish");
    const info = await ex.inspect();
    expect(info).toMatchObject({ ExitCode: 3, Running: false, OpenStdin: true });
    expect(info.ContainerID).toBe(c.id);
    expect(info.ProcessConfig).toMatchObject({ entrypoint: "sh", arguments: ["-c", "cat; echo e >&2; exit 3"] });

    const env = await c.exec({ Cmd: ["sh", "-c", "echo $X $(pwd)"], AttachStdout: true, AttachStderr: true, Env: ["X=1"], WorkingDir: "/tmp" });
    const s2 = (await env.start({})) as unknown as Readable;
    const io2 = demux(docker, s2);
    await ended(s2);
    expect(io2.text().stdout).toBe("1 /tmp\n");

    const bg = await c.exec({ Cmd: ["sh", "-c", "echo bg > /tmp/bg; exit 4"] });
    await bg.start({ Detach: true });
    await until(async () => (await bg.inspect()).Running === false, "detached exec to finish");
    expect((await bg.inspect()).ExitCode).toBe(4);
    await expectHttpError(docker.getExec("0123456789abcdef").inspect(), 404, "No such exec instance");
  });

  test("inspect and list with filters", async () => {
    const c = await create({ Cmd: ["sleep", "100"], name: "dlist", Labels: { app: "ode", tier: "x" }, Env: ["A=b"] });
    await c.start();
    const info = await c.inspect();
    expect(info.Name).toBe("/dlist");
    expect(info.Id).toBe(c.id);
    expect(info.Config.Labels).toEqual({ app: "ode", tier: "x" });
    expect(info.Config.Env).toContain("A=b");
    expect(info.Config.Image).toBe(bb);
    expect(info.State.Running).toBe(true);
    expect(info.State.Pid).toBeGreaterThan(0);
    expect(info.State.StartedAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(info.Image).toMatch(/^sha256:[0-9a-f]{64}$/);

    const byLabel = await docker.listContainers({ filters: { label: ["app=ode"] } });
    expect(byLabel.map((x) => x.Id)).toEqual([c.id]);
    const row = byLabel[0]!;
    expect(row.Names).toEqual(["/dlist"]);
    expect(typeof row.Created).toBe("number");
    expect(row.State).toBe("running");
    expect(row.Status).toMatch(/^Up /);
    expect(row.Image).toBe(bb);
    expect(row.Command).toBe("sleep 100");
    expect(row.Labels).toEqual({ app: "ode", tier: "x" });
    expect((await docker.listContainers({ filters: { name: ["dlist"] } })).map((x) => x.Id)).toEqual([c.id]);
    expect((await docker.listContainers({ filters: { id: [c.id.slice(0, 12)] } })).map((x) => x.Id)).toEqual([c.id]);
    expect(await docker.listContainers({ filters: { label: ["app=nope"] } })).toEqual([]);
    const exited = await docker.listContainers({ all: true, filters: { status: ["exited"] } });
    expect(exited.map((x) => x.Id)).not.toContain(c.id);
    expect(exited.every((x) => x.State === "exited")).toBe(true);
    await expectHttpError(docker.listContainers({ filters: { bogus: ["1"] } }), 400, "invalid filter 'bogus'");
  });

  test("stats (one-shot and one streamed sample) and top", async () => {
    const c = await create({ Cmd: ["sleep", "100"], name: "dstats" });
    await c.start();
    const s = (await c.stats({ stream: false })) as unknown as Record<string, any>;
    expect(s.name).toBe("/dstats");
    expect(s.id).toBe(c.id);
    expect(s.read).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(s.preread).toMatch(/^\d{4}-\d\d-\d\dT|^0001-01-01T00:00:00Z$/);
    expect(s.cpu_stats.cpu_usage.total_usage).toBeGreaterThan(0);
    expect(typeof s.cpu_stats.system_cpu_usage).toBe("number");
    expect(s.cpu_stats.online_cpus).toBeGreaterThan(0);
    expect(s.precpu_stats.cpu_usage).toBeDefined();
    expect(s.memory_stats.usage).toBeGreaterThan(0);
    expect(s.memory_stats.limit).toBeGreaterThan(0);
    expect(typeof s.memory_stats.stats).toBe("object");
    expect(s.pids_stats.current).toBeGreaterThanOrEqual(1);
    expect(s.blkio_stats).toHaveProperty("io_service_bytes_recursive");
    expect(typeof s.networks).toBe("object");
    expect(s.networks.eth0).toHaveProperty("rx_bytes");

    const stream = (await c.stats({ stream: true })) as unknown as Readable;
    const first = await new Promise<Record<string, any>>((resolve, reject) => {
      let buf = "";
      stream.on("data", (b: Buffer) => {
        buf += b.toString();
        const nl = buf.indexOf("\n");
        if (nl >= 0) resolve(JSON.parse(buf.slice(0, nl)));
      });
      stream.on("error", reject);
    });
    stream.on("error", () => {}); // closing our end aborts the request: not a failure
    stream.destroy();
    expect(first.id).toBe(c.id);
    expect(first.memory_stats.usage).toBeGreaterThan(0);

    const top = await c.top();
    expect(top.Titles).toEqual(["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"]);
    expect(top.Processes.some((p: string[]) => p.at(-1) === "sleep 100")).toBe(true);
    const psArgs = await c.top({ ps_args: "-o pid,comm" });
    expect(psArgs.Titles).toEqual(["PID", "COMMAND"]);
  });

  test("kill, stop, restart, remove; 404 and 409 as dockerode sees them", async () => {
    const c = await create({ Cmd: ["sleep", "100"], name: "dlife" });
    await expectHttpError(c.kill(), 409, "is not running");
    await c.start();
    // starting a running container: dockerd answers 304 (no body), which docker-modem turns into an error
    const again = (await c.start().then(() => undefined, (e: unknown) => e)) as { statusCode?: number } | undefined;
    expect(again?.statusCode).toBe(304);
    await expectHttpError(c.remove(), 409, "You cannot remove a running container");
    await expectHttpError(docker.createContainer({ Image: bb, name: "dlife" }), 409, 'The container name "/dlife" is already in use');
    await c.kill({ signal: "SIGKILL" });
    expect((await c.wait()).StatusCode).toBe(137);
    await c.start();
    await c.stop({ t: 1 });
    expect((await c.inspect()).State.Status).toBe("exited");
    const before = (await c.inspect()).State.StartedAt;
    await c.restart({ t: 1 });
    const after = await c.inspect();
    expect(after.State.Running).toBe(true);
    expect(after.State.StartedAt).not.toBe(before);
    expect(after.RestartCount).toBe(0);
    await c.remove({ force: true });
    await expectHttpError(c.inspect(), 404, "No such container: ");
    await expectHttpError(docker.getContainer("nope").inspect(), 404, "No such container: nope");
    await expectHttpError(docker.getContainer("nope").remove(), 404, "No such container: nope");
    await expectHttpError(docker.createContainer({ Image: "127.0.0.1:1/none:latest" }), 404, "No such image: 127.0.0.1:1/none:latest");
  });

  test("getEvents with since/until and filters: Docker's event shape", async () => {
    const since = Math.floor(Date.now() / 1000) - 1;
    const c = await create({ Cmd: ["true"], name: "devents", Labels: { ev: "1" } });
    await c.start();
    await c.wait();
    await c.remove();
    const untilTs = Math.floor(Date.now() / 1000) + 1;
    const stream = (await docker.getEvents({ since, until: untilTs, filters: { type: ["container"], container: [c.id] } })) as unknown as Readable;
    let buf = "";
    stream.on("data", (b: Buffer) => (buf += b.toString()));
    await ended(stream); // until makes the stream end
    const evs = buf.trim().split("\n").map((l) => JSON.parse(l) as Record<string, any>);
    expect(evs.map((e) => e.Action)).toEqual(["create", "start", "die", "destroy"]);
    for (const e of evs) {
      expect(e.Type).toBe("container");
      expect(e.Actor.ID).toBe(c.id);
      expect(e.Actor.Attributes).toMatchObject({ name: "devents", image: bb, ev: "1" });
      expect(e.scope).toBe("local");
      expect(typeof e.time).toBe("number");
      expect(e.time).toBeGreaterThanOrEqual(since);
      expect(Math.floor(e.timeNano / 1e9)).toBe(e.time);
      // the legacy fields older clients read
      expect(e.status).toBe(e.Action);
      expect(e.id).toBe(c.id);
      expect(e.from).toBe(bb);
    }
    expect(evs[2]!.Actor.Attributes.exitCode).toBe("0");

    const onlyDie = (await docker.getEvents({ since, until: untilTs, filters: { event: ["die"], label: ["ev=1"] } })) as unknown as Readable;
    let b2 = "";
    onlyDie.on("data", (b: Buffer) => (b2 += b.toString()));
    await ended(onlyDie);
    expect(b2.trim().split("\n").map((l) => JSON.parse(l).Action)).toEqual(["die"]);
  });
  test("healthcheck: State.Health, health_status events, the health filter, (healthy) in the list", async () => {
    const since = Math.floor(Date.now() / 1000);
    const c = await create({ Cmd: ["sleep", "1000"], name: "dhealth", Healthcheck: { Test: ["CMD-SHELL", "test -f /tmp/ok && echo ok"], Interval: 100_000_000, Retries: 1 } });
    await c.start();
    expect((await c.inspect()).State.Health).toEqual({ Status: "starting", FailingStreak: 0, Log: [] });
    await until(async () => (await c.inspect()).State.Health?.Status === "unhealthy", "unhealthy");
    const ex = await c.exec({ Cmd: ["touch", "/tmp/ok"] });
    await ex.start({ Detach: true });
    await until(async () => (await c.inspect()).State.Health?.Status === "healthy", "healthy");
    const h = (await c.inspect()).State.Health!;
    expect(h.FailingStreak).toBe(0);
    expect(h.Log.at(-1)).toMatchObject({ ExitCode: 0, Output: "ok\n" });
    const listed = await docker.listContainers({ filters: { health: ["healthy"], name: ["dhealth"] } });
    expect(listed.map((x) => x.Status)).toEqual([expect.stringMatching(/^Up .* \(healthy\)$/)]);
    await expectHttpError(docker.listContainers({ filters: { health: ["bogus"] } }), 400, "Unrecognised filter value for health: bogus");
    const evs = (await docker.getEvents({ since, until: Math.floor(Date.now() / 1000) + 1, filters: { container: [c.id] } })) as unknown as Readable;
    let body = "";
    evs.on("data", (b: Buffer) => (body += b.toString()));
    await ended(evs);
    const actions = body.trim().split("\n").map((l) => JSON.parse(l).Action as string);
    expect(actions.filter((a) => a.startsWith("health_status"))).toEqual(["health_status: unhealthy", "health_status: healthy"]);
    expect(actions).toContain("exec_start: /bin/sh -c test -f /tmp/ok && echo ok");
  });

  test("update: limits on the running cgroup, restart policy, dockerd's answer and refusals", async () => {
    const c = await create({ Cmd: ["sleep", "1000"], HostConfig: { Memory: 64 * 1024 * 1024 } });
    await c.start();
    expect(await c.update({ Memory: 32 * 1024 * 1024, PidsLimit: 40, RestartPolicy: { Name: "on-failure", MaximumRetryCount: 2 } })).toEqual({ Warnings: null });
    const hc = (await c.inspect()).HostConfig;
    expect(hc).toMatchObject({ Memory: 32 * 1024 * 1024, MemorySwap: 128 * 1024 * 1024, PidsLimit: 40, RestartPolicy: { Name: "on-failure", MaximumRetryCount: 2 } });
    const v1 = `/sys/fs/cgroup/memory/ctr/${c.id}/memory.limit_in_bytes`;
    const limit = existsSync(v1) ? readFileSync(v1, "utf8") : readFileSync(`/sys/fs/cgroup/ctr/${c.id}/memory.max`, "utf8");
    expect(limit.trim()).toBe(String(32 * 1024 * 1024));
    await expectHttpError(c.update({ Memory: 1000 }), 400, "Minimum memory limit allowed is 6MB");
    await expectHttpError(docker.getContainer("nope-nope").update({ CpuShares: 2 }), 404, "No such container: nope-nope");
  });

  test("attach logs=1&stream=0 of an exited container returns its output and ends; image get; swarm answers 503", async () => {
    const c = await create({ Cmd: ["sh", "-c", "echo one; echo two >&2"] });
    await c.start();
    await c.wait();
    const stream = (await c.attach({ logs: true, stream: false, stdout: true, stderr: true, hijack: true })) as unknown as Duplex;
    const io = demux(docker, stream);
    await ended(stream);
    expect(io.text()).toEqual({ stdout: "one\n", stderr: "two\n" });
    const tar = (await docker.getImage(bb).get()) as unknown as Readable;
    const chunks: Buffer[] = [];
    for await (const b of tar) chunks.push(b as Buffer);
    expect(Buffer.concat(chunks).includes(Buffer.from("manifest.json"))).toBe(true);
    await expectHttpError(docker.swarmInspect(), 503, "This node is not a swarm manager.");
    await expectHttpError(docker.listServices(), 503, "This node is not a swarm manager.");
  });

  test("detach keys: with a TTY the sequence ends the attach, the container runs on and never sees it", async () => {
    // raw mode: every byte reaches cat at once (no line discipline in between)
    const c = await create({ Cmd: ["sh", "-c", "stty raw -echo; cat > /tmp/in"], Tty: true, OpenStdin: true, AttachStdin: true, AttachStdout: true });
    await c.start();
    const stream = (await c.attach({ stream: true, stdin: true, stdout: true, hijack: true, detachKeys: "ctrl-x,y" })) as unknown as Duplex;
    stream.resume();
    const done = ended(stream);
    stream.write("abc\x18z\x18y");
    await done; // the daemon closed the attach
    expect((await c.inspect()).State.Running).toBe(true);
    const read = async () => {
      const ex = await c.exec({ Cmd: ["cat", "/tmp/in"], AttachStdout: true, AttachStderr: true });
      const out = (await ex.start({ hijack: true })) as unknown as Readable;
      const io = demux(docker, out);
      await ended(out);
      return io.text().stdout;
    };
    // a partial match went through; the whole sequence did not, and nothing after it
    await until(async () => (await read()) === "abc\x18z", "the bytes before the sequence to reach the container");
    const bad = await d.client.request("POST", `/containers/${c.id}/attach`, { query: { stream: 1, stdin: 1, detachKeys: "ctrl-xx" } }).catch((e: unknown) => e as { status?: number; message: string });
    expect(bad).toMatchObject({ status: 400, message: expect.stringContaining("Invalid detach keys (ctrl-xx) provided") });
  });
});
