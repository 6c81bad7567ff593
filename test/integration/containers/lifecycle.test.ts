// Containers through `ctr` against a real daemon: exit codes, limits, logs,
// restart policies, and what a daemon restart or kill -9 leaves behind.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { isRoot, pidAlive, run, startDaemon, until, type TestDaemon, removeAllContainers } from "../../helpers/daemon.ts";
import { haveRegistry, seedBusybox, startRegistry, type RunningRegistry } from "../../helpers/registry.ts";

setDefaultTimeout(60_000);

const ready = isRoot && haveRegistry;
if (!isRoot) console.warn("skip: containers need root");
else if (!haveRegistry) console.warn("skip: docker-registry is not installed");

/** Paths in the host's mount table that belong to this daemon's root. */
function mountsUnder(root: string): string[] {
  return readFileSync("/proc/self/mounts", "utf8")
    .split("\n")
    .map((l) => l.split(" ")[1] ?? "")
    .filter((p) => p.startsWith(root));
}

/** Container cgroups (v1 memory hierarchy or v2) that exist for this id. */
function cgroupExists(id: string): boolean {
  return ["/sys/fs/cgroup/memory/ctr", "/sys/fs/cgroup/pids/ctr", "/sys/fs/cgroup/ctr"].some((d) => existsSync(join(d, id)));
}

describe.skipIf(!ready)("container lifecycle through ctr", () => {
  let reg: RunningRegistry;
  let bb: string;
  let d: TestDaemon;
  const ctr = (args: string[], stdin?: string) => d.ctr(args, { stdin });
  const inspect = async (name: string, fmt: string) => (await ctr(["inspect", "-f", fmt, name])).stdout.trim();

  beforeAll(async () => {
    reg = await startRegistry();
    bb = await seedBusybox(reg.host);
    d = await startDaemon();
    expect((await ctr(["pull", "-q", bb])).code).toBe(0);
  });
  afterAll(async () => {
    await removeAllContainers(d);
    await d?.[Symbol.asyncDispose]();
    await reg?.stop();
  });

  test("run returns the container's exit code; stdout and stderr stay apart; a signal gives 128+n", async () => {
    const r = await ctr(["run", "--rm", bb, "sh", "-c", "echo out; echo err >&2; exit 3"]);
    expect(r).toMatchObject({ code: 3, stdout: "out\n", stderr: "err\n" });
    expect((await ctr(["run", "-d", "--name", "sig", bb, "sleep", "100"])).code).toBe(0);
    expect((await ctr(["kill", "sig"])).stdout).toBe("sig\n");
    expect((await ctr(["wait", "sig"])).stdout).toBe("137\n");
    expect(await inspect("sig", "{{.State.Status}} {{.State.ExitCode}}")).toBe("exited 137");
    const missing = await ctr(["run", "--rm", bb, "no-such-command"]);
    expect(missing.code).toBe(127);
    expect(missing.stderr).toContain('exec: "no-such-command": executable file not found in $PATH');
  });

  test("stdin, stdout and stderr are pipes, as under dockerd: /dev/stdout and /dev/stderr open again (images log there), whole, attached and in the log", async () => {
    const script = "[ -p /dev/stdout ] && [ -p /dev/stderr ] && echo fifo; echo out > /dev/stdout; echo err > /proc/self/fd/2";
    const r = await ctr(["run", "--rm", bb, "sh", "-c", `${script}; head -c 3000000 /dev/zero | tr '\\0' x`]);
    expect(r.stderr).toBe("err\n");
    expect(r.code).toBe(0);
    expect(r.stdout.slice(0, 9)).toBe("fifo\nout\n");
    expect(r.stdout.length).toBe(9 + 3_000_000);
    expect((await ctr(["run", "-d", "--name", "to-dev-stdout", bb, "sh", "-c", script])).code).toBe(0);
    expect((await ctr(["wait", "to-dev-stdout"])).stdout).toBe("0\n");
    expect(await ctr(["logs", "to-dev-stdout"])).toMatchObject({ code: 0, stdout: "fifo\nout\n", stderr: "err\n" });
    // And stdin: `cat /dev/stdin` opens it again, gets what was sent and its end.
    expect(await ctr(["run", "--rm", "-i", bb, "sh", "-c", "[ -p /dev/stdin ] && echo fifo; cat /dev/stdin"], "hello\n")).toMatchObject({ code: 0, stdout: "fifo\nhello\n" });
  });

  test("--rm: the rw layer is mounted volatile (its exit syncs nothing); a kept container's is not; cp into a running --rm one works", async () => {
    const rootOptions = "grep ' / / ' /proc/self/mountinfo";
    const gone = await ctr(["run", "--rm", bb, "sh", "-c", rootOptions]);
    expect(gone.code).toBe(0);
    // Linux 6.1 lists "volatile", newer kernels "fsync=volatile".
    expect(gone.stdout).toMatch(/ - overlay overlay \S*[,=]volatile\b/);
    const kept = await ctr(["run", "--name", "kept-rw", bb, "sh", "-c", rootOptions]);
    expect(kept.stdout).toMatch(/ - overlay overlay /);
    expect(kept.stdout).not.toContain("volatile");
    // The volatile mount's mark in the workdir would make the kernel refuse cp's own mount of the layer.
    const id = (await ctr(["run", "-d", "--rm", bb, "sleep", "100"])).stdout.trim();
    writeFileSync(join(d.dir, "cp-in"), "copied\n");
    expect((await ctr(["cp", `${d.dir}/cp-in`, `${id}:/cp-in`])).code).toBe(0);
    expect((await ctr(["exec", id, "cat", "/cp-in"])).stdout).toBe("copied\n");
    expect((await ctr(["rm", "-f", id, "kept-rw"])).code).toBe(0);
  });

  test("-m: a memory hog is OOM-killed with 137 and State.OOMKilled", async () => {
    const r = await ctr(["run", "--name", "hog", "-m", "16m", "--memory-swap", "16m", bb, "sh", "-c", "x=aaaaaaaaaaaaaaaa; while true; do x=$x$x; done"]);
    expect(r.code).toBe(137);
    expect(await inspect("hog", "{{.State.OOMKilled}} {{.State.ExitCode}} {{.HostConfig.Memory}}")).toBe(`true 137 ${16 * 1024 * 1024}`);
  });

  test("a container started from the init kept ahead gets its own limits and device list", async () => {
    // Earlier runs left an init waiting (warm.ts); this start takes it and must still be confined.
    await ctr(["run", "--rm", bb, "true"]);
    expect((await ctr(["run", "-d", "--name", "lim", "-m", "32m", bb, "sleep", "100"])).code).toBe(0);
    const id = await inspect("lim", "{{.Id}}");
    const v1 = `/sys/fs/cgroup/memory/ctr/${id}/memory.limit_in_bytes`;
    const limit = existsSync(v1) ? readFileSync(v1, "utf8") : readFileSync(`/sys/fs/cgroup/ctr/${id}/memory.max`, "utf8");
    expect(limit.trim()).toBe(String(32 * 1024 * 1024));
    const r = await ctr(["exec", "lim", "sh", "-c", "mknod /tmp/sda b 8 0 && head -c1 /tmp/sda > /dev/null && echo READ"]);
    expect(r.stdout).not.toContain("READ");
    expect(r.stderr).toMatch(/Operation not permitted/);
    await ctr(["rm", "-f", "lim"]);
  });

  test("--pids-limit stops a fork bomb", async () => {
    const r = await ctr(["run", "--rm", "--pids-limit", "8", bb, "sh", "-c", "i=0; while [ $i -lt 30 ]; do sleep 30 & i=$((i+1)); done; exit 0"]);
    expect(r.stderr).toMatch(/fork|Resource temporarily unavailable/);
  });

  test("-t gives a tty; -i streams stdin", async () => {
    const t = await run(["script", "-qec", `${process.execPath} ${join(import.meta.dir, "../../../src/cli.ts")} -H ${d.host} run --rm -t ${bb} tty`, "/dev/null"]);
    expect(t.stdout).toContain("/dev/pts/0");
    expect(await ctr(["run", "--rm", "-i", bb, "sh", "-c", "tr a-z A-Z"], "shout\n")).toMatchObject({ code: 0, stdout: "SHOUT\n" });
  });

  test("--log-opt max-size/max-file rotates and bounds the log; logs --tail reads across files", async () => {
    const r = await ctr(["run", "--name", "chatty", "--log-opt", "max-size=2k", "--log-opt", "max-file=2", bb, "sh", "-c", "i=0; while [ $i -lt 400 ]; do i=$((i+1)); echo line $i; done"]);
    expect(r.code).toBe(0);
    const id = await inspect("chatty", "{{.Id}}");
    const dir = join(d.root, "containers", id);
    const logs = readdirSync(dir).filter((f) => f.includes("json.log"));
    expect(logs.length).toBeLessThanOrEqual(2);
    expect(logs.length).toBeGreaterThanOrEqual(1);
    for (const f of logs) expect(Bun.file(join(dir, f)).size).toBeLessThanOrEqual(2048 + 200);
    expect((await ctr(["logs", "--tail", "2", "chatty"])).stdout).toBe("line 399\nline 400\n");
    const bad = await ctr(["run", "--rm", "--log-opt", "max-size=lots", bb, "true"]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain("max-size");
  });

  test("exec, top, stats, pause/unpause, rename, wait and container prune", async () => {
    expect((await ctr(["run", "-d", "--name", "box", bb, "sleep", "100"])).code).toBe(0);
    expect(await ctr(["exec", "box", "sh", "-c", "echo $((6*7))"])).toMatchObject({ code: 0, stdout: "42\n" });
    expect((await ctr(["exec", "box", "sh", "-c", "exit 5"])).code).toBe(5);
    expect((await ctr(["top", "box"])).stdout).toMatch(/PID[\s\S]*sleep 100/);
    expect((await ctr(["stats", "--no-stream", "box"])).stdout).toMatch(/^CONTAINER ID\s+NAME\s+CPU %[\s\S]*box/);
    expect((await ctr(["pause", "box"])).code).toBe(0);
    expect(await inspect("box", "{{.State.Status}}")).toBe("paused");
    expect((await ctr(["unpause", "box"])).code).toBe(0);
    expect((await ctr(["rename", "box", "box2"])).code).toBe(0);
    expect(await inspect("box2", "{{.Name}} {{.State.Status}}")).toBe("/box2 running");
    expect((await ctr(["stop", "-t", "1", "box2"])).stdout).toBe("box2\n");
    expect((await ctr(["wait", "box2"])).stdout).toBe("137\n");
    const pruned = await ctr(["container", "prune", "-f"]);
    expect(pruned.stdout).toContain("Total reclaimed space");
    expect((await ctr(["ps", "-aq"])).stdout.trim()).toBe("");
  });

  test("restart on-failure:2 retries twice, then stays down", async () => {
    await ctr(["run", "-d", "--name", "flaky", "--restart", "on-failure:2", bb, "sh", "-c", "exit 1"]);
    await until(async () => (await inspect("flaky", "{{.RestartCount}} {{.State.Status}}")) === "2 exited", "two restarts", 20_000);
    expect(await inspect("flaky", "{{.State.ExitCode}}")).toBe("1");
    await ctr(["rm", "-f", "flaky"]);
  });

  test("a daemon restart honours restart policies and keeps logs", async () => {
    // --stop-timeout 1: sleep as pid 1 ignores SIGTERM, and the daemon's shutdown waits that long.
    await ctr(["run", "-d", "--name", "always", "--stop-timeout", "1", "--restart", "always", bb, "sh", "-c", "echo booted; sleep 1000"]);
    await ctr(["run", "-d", "--name", "unless", "--stop-timeout", "1", "--restart", "unless-stopped", bb, "sleep", "1000"]);
    await ctr(["run", "-d", "--name", "stopped-unless", "--restart", "unless-stopped", bb, "sleep", "1000"]);
    await ctr(["run", "-d", "--name", "plain", "--stop-timeout", "1", bb, "sh", "-c", "echo kept; sleep 1000"]);
    await until(async () => (await ctr(["logs", "plain"])).stdout === "kept\n", "plain's output");
    expect((await ctr(["stop", "-t", "0", "stopped-unless"])).code).toBe(0);
    await d.stop();
    d = await startDaemon([], { dir: d.dir });
    expect(await inspect("always", "{{.State.Status}}")).toBe("running");
    expect(await inspect("unless", "{{.State.Status}}")).toBe("running");
    expect(await inspect("stopped-unless", "{{.State.Status}}")).toBe("exited");
    expect(await inspect("plain", "{{.State.Status}}")).toBe("exited");
    expect((await ctr(["logs", "plain"])).stdout).toBe("kept\n");
    await until(async () => (await ctr(["logs", "always"])).stdout === "booted\nbooted\n", "always's second boot");
    await ctr(["rm", "-f", "always", "unless", "stopped-unless", "plain"]);
  });

  test("kill -9 of the daemon while containers run: the next start records them, revives `always`, leaks nothing", async () => {
    await ctr(["run", "-d", "--name", "victim", bb, "sleep", "1000"]);
    await ctr(["run", "-d", "--name", "phoenix", "--restart", "always", bb, "sleep", "1000"]);
    const victimId = await inspect("victim", "{{.Id}}");
    const victimPid = Number(await inspect("victim", "{{.State.Pid}}"));
    const phoenixPid = Number(await inspect("phoenix", "{{.State.Pid}}"));
    expect(pidAlive(victimPid)).toBe(true);
    await d.kill9();
    d = await startDaemon([], { dir: d.dir });
    expect(await inspect("victim", "{{.State.Status}} {{.State.ExitCode}}")).toBe("exited 137");
    expect(await inspect("victim", "{{.State.Error}}")).toContain("daemon");
    expect(await inspect("phoenix", "{{.State.Status}}")).toBe("running");
    expect(Number(await inspect("phoenix", "{{.State.Pid}}"))).not.toBe(phoenixPid);
    const ps = (await ctr(["ps", "--format", "{{.Names}}"])).stdout.trim().split("\n");
    expect(ps).toEqual(["phoenix"]);
    // Nothing of the dead container is left: process, rootfs mount, cgroup.
    await until(() => !pidAlive(victimPid) && !pidAlive(phoenixPid), "old processes to be gone");
    expect(mountsUnder(d.root).filter((m) => m.includes(victimId))).toEqual([]);
    expect(cgroupExists(victimId)).toBe(false);
    await ctr(["rm", "-f", "victim", "phoenix"]);
    expect(mountsUnder(d.root)).toEqual([]);
  });
});
