// The stock docker CLI driven against a ctr daemon: assertions on its output,
// following ../shared/reference/docker-cli-api-traffic.md.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";

setDefaultTimeout(60_000);
import { hasDocker, isRoot, run, startDaemon, until, type TestDaemon } from "../helpers/daemon.ts";
import { seedBusybox, startRegistry } from "../helpers/registry.ts";

const ready = hasDocker && isRoot;
if (!hasDocker) console.warn("skip: docker CLI not installed");
else if (!isRoot) console.warn("skip: containers need root");

describe.skipIf(!ready)("docker CLI against ctr", () => {
  let d: TestDaemon;
  let reg: { host: string; stop(): Promise<void> };
  let bb: string;
  beforeAll(async () => {
    reg = await startRegistry();
    bb = await seedBusybox(reg.host);
    d = await startDaemon();
  });
  afterAll(async () => {
    await d?.docker(["rm", "-f", "t1", "t2"]);
    await d?.[Symbol.asyncDispose]();
    await reg?.stop();
  });

  test("pull, images, tag, rmi", async () => {
    const p = await d.docker(["pull", bb]);
    expect(p.stderr).toBe("");
    expect(p.code).toBe(0);
    expect(p.stdout).toContain(`Status: Downloaded newer image for ${bb}`);
    const again = await d.docker(["pull", bb]);
    expect(again.stdout).toContain(`Status: Image is up to date for ${bb}`);
    const repo = bb.replace(/:latest$/, "");
    const tag = await d.docker(["tag", bb, `${reg.host}/busybox:t2`]);
    expect(tag.code).toBe(0);
    const imgs = await d.docker(["images"]);
    expect(imgs.stdout).toMatch(/^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE/);
    expect(imgs.stdout).toMatch(new RegExp(`${repo}\\s+latest\\s+[0-9a-f]{12}\\s`));
    expect(imgs.stdout).toMatch(new RegExp(`${reg.host}/busybox\\s+t2\\s`));
    const rmi = await d.docker(["rmi", `${reg.host}/busybox:t2`]);
    expect(rmi.stdout.trim()).toBe(`Untagged: ${reg.host}/busybox:t2`);
  });

  test("run --rm echo prints and exits with the container's code", async () => {
    const r = await d.docker(["run", "--rm", bb, "echo", "hi"]);
    expect(r).toMatchObject({ code: 0, stdout: "hi\n" });
    const e = await d.docker(["run", "--rm", bb, "sh", "-c", "echo out; echo err >&2; exit 3"]);
    expect(e).toMatchObject({ code: 3, stdout: "out\n", stderr: "err\n" });
    const ps = await d.docker(["ps", "-a", "-q"]);
    expect(ps.stdout.trim()).toBe(""); // --rm removed them in the daemon
  });

  test("run -i with stdin piped; -e; --name", async () => {
    const r = await d.docker(["run", "--rm", "-i", bb, "cat"], { stdin: "abc\n" });
    expect(r).toMatchObject({ code: 0, stdout: "abc\n" });
    const env = await d.docker(["run", "--rm", "--name", "envy", "-e", "FOO=bar", bb, "sh", "-c", 'echo $FOO $(hostname)']);
    expect(env.stdout).toMatch(/^bar [0-9a-f]{12}\n$/);
  });

  test("run -t via script gives a tty", async () => {
    const r = await run(["script", "-qec", `docker -H ${d.host} run --rm -t ${bb} tty`, "/dev/null"]);
    expect(r.stdout).toContain("/dev/pts/0");
  });

  test("run -d, ps, logs, exec, inspect, top, stats, stop/start/restart/kill/wait/rm", async () => {
    const r = await d.docker(["run", "-d", "--name", "t1", bb, "sh", "-c", "echo out1; echo err1 >&2; sleep 100"]);
    expect(r.code).toBe(0);
    const id = r.stdout.trim();
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    const ps = await d.docker(["ps"]);
    expect(ps.stdout).toMatch(new RegExp(`^${id.slice(0, 12)}\\s+${bb.replace(/[.]/g, "\\.")}\\s+"sh -c 'echo out1; e…"\\s+.*\\s+Up .*\\s+t1$`, "m"));
    await until(async () => (await d.docker(["logs", "t1"])).stdout === "out1\n", "logs");
    const logs = await d.docker(["logs", "t1"]);
    expect(logs).toMatchObject({ stdout: "out1\n", stderr: "err1\n" });
    const follow = await run(["timeout", "1", "docker", "-H", d.host, "logs", "-f", "--tail", "1", "t1"]);
    expect(follow.code).toBe(124);
    expect(follow.stderr).toBe("err1\n");
    expect(await d.docker(["exec", "t1", "echo", "x"])).toMatchObject({ code: 0, stdout: "x\n" });
    expect(await d.docker(["exec", "-i", "t1", "cat"], { stdin: "abc" })).toMatchObject({ code: 0, stdout: "abc" });
    expect((await d.docker(["exec", "t1", "sh", "-c", "exit 7"])).code).toBe(7);
    expect((await d.docker(["inspect", "-f", "{{.State.Status}} {{.Name}}", "t1"])).stdout).toBe("running /t1\n");
    const top = await d.docker(["top", "t1"]);
    expect(top.stdout).toMatch(/^UID\s+PID\s+PPID/);
    expect(top.stdout).toContain("sleep 100");
    const stats = await d.docker(["stats", "--no-stream", "t1"]);
    expect(stats.stdout).toMatch(/^CONTAINER ID\s+NAME\s+CPU %/);
    expect(stats.stdout).toContain("t1");
    expect((await d.docker(["stop", "-t", "1", "t1"])).stdout).toBe("t1\n");
    expect((await d.docker(["inspect", "-f", "{{.State.Status}}", "t1"])).stdout).toBe("exited\n");
    expect((await d.docker(["start", "t1"])).stdout).toBe("t1\n");
    expect((await d.docker(["restart", "-t", "1", "t1"])).code).toBe(0);
    expect((await d.docker(["kill", "t1"])).stdout).toBe("t1\n");
    expect((await d.docker(["wait", "t1"])).stdout).toBe("137\n");
    const rm = await d.docker(["rm", "t1"]);
    expect(rm.stdout).toBe("t1\n");
    const gone = await d.docker(["inspect", "t1"]);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain("No such object: t1");
  });

  test("errors look like dockerd's", async () => {
    const r = await d.docker(["rm", "nope"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("No such container: nope");
    await d.docker(["run", "-d", "--name", "t2", bb, "sleep", "100"]);
    const busy = await d.docker(["rm", "t2"]);
    expect(busy.stderr).toContain("container is running");
    const dup = await d.docker(["create", "--name", "t2", bb]);
    expect(dup.stderr).toContain('The container name "/t2" is already in use');
    expect((await d.docker(["rm", "-f", "t2"])).code).toBe(0);
  });

  test("events --since/--until shows what happened", async () => {
    const start = Math.floor(Date.now() / 1000) - 1;
    await d.docker(["run", "--rm", "--name", "evt", bb, "true"]);
    const r = await d.docker(["events", "--since", String(start), "--until", String(Math.floor(Date.now() / 1000) + 1)]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/container create [0-9a-f]{64} \(.*name=evt/);
    expect(r.stdout).toMatch(/container die [0-9a-f]{64} \(.*exitCode=0/);
    expect(r.stdout).toMatch(/container destroy [0-9a-f]{64}/);
  });
});
