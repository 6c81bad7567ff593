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
    await d?.docker(["rm", "-f", "t1", "t2", "ps1", "ps2", "ex", "lg", "pz", "rn1", "rn2", "att", "sa", "ks"]);
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
    expect(busy.stderr).toContain("You cannot remove a running container");
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
  test("version and info describe the daemon", async () => {
    const v = await d.docker(["version"]);
    expect(v.code).toBe(0);
    expect(v.stdout).toMatch(/^Server:/m);
    expect(v.stdout).toMatch(/^ Engine:\n  Version:\s+\S+\n  API version:\s+1\.5\d \(minimum version 1\.24\)$/m);
    expect(v.stdout).toMatch(/^  OS\/Arch:\s+linux\/(amd64|arm64)$/m);
    const f = await d.docker(["version", "-f", "{{.Server.APIVersion}} {{.Server.MinAPIVersion}} {{.Server.Os}}"]);
    expect(f.stdout).toMatch(/^1\.5\d 1\.24 linux\n$/);
    const i = await d.docker(["info"]);
    expect(i.code).toBe(0);
    expect(i.stdout).toMatch(/^ Containers: \d+\n  Running: \d+\n  Paused: \d+\n  Stopped: \d+\n Images: \d+$/m);
    expect(i.stdout).toMatch(/^ Storage Driver: \S+$/m);
    expect(i.stdout).toMatch(/^ Cgroup Version: [12]$/m);
    expect(i.stdout).toMatch(/^ Docker Root Dir: /m);
    const n = await d.docker(["info", "-f", "{{.OSType}} {{.Architecture}} {{.NCPU}}"]);
    expect(n.stdout).toMatch(/^linux (x86_64|aarch64) \d+\n$/);
  });

  test("run: half-closed stdin ends; a missing command exits 127; --rm removes in the daemon", async () => {
    // `echo hi | docker run -i … cat`: the CLI half-closes at EOF, cat sees it and the run ends
    expect(await d.docker(["run", "-i", "--rm", bb, "cat"], { stdin: "hi\n" })).toMatchObject({ code: 0, stdout: "hi\n" });
    const nope = await d.docker(["run", "--rm", "--name", "nocmd", bb, "nosuchcmd"]);
    expect(nope.code).toBe(127);
    expect(nope.stderr).toContain('exec: "nosuchcmd": executable file not found in $PATH');
    expect(nope.stderr).toMatch(/^docker: Error response from daemon: /);
    const start = Math.floor(Date.now() / 1000) - 1;
    expect((await d.docker(["run", "--rm", "--name", "gone", bb, "true"])).code).toBe(0);
    expect((await d.docker(["ps", "-a", "--filter", "name=gone", "-q"])).stdout).toBe("");
    const ev = await d.docker(["events", "--since", String(start), "--until", String(Math.floor(Date.now() / 1000) + 1), "--filter", "container=gone", "--format", "{{.Action}}"]);
    expect(ev.stdout.trim().split("\n")).toEqual(["create", "attach", "start", "die", "destroy"]);
  });

  test("ps: -a, -q, filters by status/name/label, --format", async () => {
    const a = (await d.docker(["run", "-d", "--name", "ps1", "--label", "app=web", bb, "sleep", "100"])).stdout.trim();
    const b = (await d.docker(["create", "--name", "ps2", "--label", "app=db", bb, "true"])).stdout.trim();
    expect((await d.docker(["ps", "-q"])).stdout).toContain(a.slice(0, 12));
    expect((await d.docker(["ps", "-q"])).stdout).not.toContain(b.slice(0, 12));
    expect((await d.docker(["ps", "-a", "-q", "--no-trunc"])).stdout.split("\n")).toContain(b);
    expect((await d.docker(["ps", "-a", "-q", "--filter", "status=created"])).stdout).toBe(`${b.slice(0, 12)}\n`);
    expect((await d.docker(["ps", "-q", "--filter", "status=running", "--filter", "name=ps1"])).stdout).toBe(`${a.slice(0, 12)}\n`);
    expect((await d.docker(["ps", "-a", "-q", "--filter", "label=app=db"])).stdout).toBe(`${b.slice(0, 12)}\n`);
    expect((await d.docker(["ps", "-a", "-q", "--filter", "label=app"])).stdout.trim().split("\n").sort()).toEqual([a.slice(0, 12), b.slice(0, 12)].sort());
    const f = await d.docker(["ps", "-a", "--filter", "label=app", "--format", "{{.Names}} {{.Status}}"]);
    expect(f.stdout).toMatch(/^ps2 Created\nps1 Up (Less than a second|\d+ seconds?)\n$/);
    const j = await d.docker(["ps", "--filter", "name=ps1", "--format", "{{json .}}"]);
    const row = JSON.parse(j.stdout);
    expect(row).toMatchObject({ ID: a.slice(0, 12), Names: "ps1", Image: bb, Command: '"sleep 100"', Labels: "app=web", State: "running", Ports: "", Mounts: "" });
    expect(row.CreatedAt).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4} \S+$/);
    expect(row.RunningFor).toMatch(/ago$/);
    const bad = await d.docker(["ps", "--filter", "colour=red"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("invalid filter 'colour'");
  });

  test("logs --tail, -t; exec -e/-w/-u/-i; inspect -f json", async () => {
    await d.docker(["run", "-d", "--name", "lg", "-e", "FOO=bar", bb, "sh", "-c", "echo one; echo two; echo three; sleep 100"]);
    await until(async () => (await d.docker(["logs", "lg"])).stdout === "one\ntwo\nthree\n", "logs");
    expect((await d.docker(["logs", "--tail", "2", "lg"])).stdout).toBe("two\nthree\n");
    const t = await d.docker(["logs", "-t", "--tail", "1", "lg"]);
    expect(t.stdout).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z three\n$/);
    expect((await d.docker(["exec", "lg", "echo", "plain"])).stdout).toBe("plain\n");
    expect((await d.docker(["exec", "-e", "X=1", "lg", "sh", "-c", "echo $X $FOO"])).stdout).toBe("1 bar\n");
    expect((await d.docker(["exec", "-w", "/tmp", "lg", "pwd"])).stdout).toBe("/tmp\n");
    expect((await d.docker(["exec", "-u", "1000:1000", "lg", "id", "-u"])).stdout).toBe("1000\n");
    expect(await d.docker(["exec", "-i", "lg", "sh", "-c", "cat; echo end"], { stdin: "in\n" })).toMatchObject({ code: 0, stdout: "in\nend\n" });
    const missing = await d.docker(["exec", "lg", "nosuchcmd"]);
    expect(missing.code).toBe(126); // dockerd 20.10: any exec that cannot start is 126 (docker-py suite compares)
    // dockerd has hijacked already: the message comes down the stream's stdout
    expect(missing.stdout).toContain('exec: "nosuchcmd": executable file not found in $PATH');
    expect((await d.docker(["inspect", "-f", "{{.State.Status}}", "lg"])).stdout).toBe("running\n");
    const env = JSON.parse((await d.docker(["inspect", "-f", "{{json .Config.Env}}", "lg"])).stdout) as string[];
    expect(env[0]).toBe("FOO=bar"); // the user's variables first, then the image's, as dockerd merges them
    expect(env.some((e) => e.startsWith("PATH="))).toBe(true);
    const whole = JSON.parse((await d.docker(["inspect", "lg"])).stdout);
    expect(whole).toHaveLength(1);
    expect(whole[0].Name).toBe("/lg");
  });

  test("stats --no-stream --format; pause/unpause; rename; kill -s; start -a; attach", async () => {
    await d.docker(["run", "-d", "--name", "pz", bb, "sleep", "100"]);
    const st = await d.docker(["stats", "--no-stream", "--format", "{{.Name}}|{{.MemUsage}}|{{.PIDs}}", "pz"]);
    expect(st.stdout).toMatch(/^pz\|\d+(\.\d+)?[KMG]i?B \/ \d+(\.\d+)?[KMGT]i?B\|1\n$/);
    expect((await d.docker(["pause", "pz"])).stdout).toBe("pz\n");
    expect((await d.docker(["ps", "--filter", "name=pz", "--format", "{{.Status}}"])).stdout).toMatch(/^Up .* \(Paused\)\n$/);
    expect((await d.docker(["inspect", "-f", "{{.State.Status}} {{.State.Paused}}", "pz"])).stdout).toBe("paused true\n");
    const pausedRm = await d.docker(["unpause", "pz"]);
    expect(pausedRm.stdout).toBe("pz\n");
    expect((await d.docker(["unpause", "pz"])).stderr).toContain("is not paused");

    expect(await d.docker(["rename", "pz", "rn1"])).toMatchObject({ code: 0, stdout: "" });
    expect((await d.docker(["inspect", "-f", "{{.Name}}", "rn1"])).stdout).toBe("/rn1\n");
    await d.docker(["create", "--name", "rn2", bb]);
    const clash = await d.docker(["rename", "rn1", "rn2"]);
    expect(clash.stderr).toContain('The container name "/rn2" is already in use');

    await d.docker(["run", "-d", "--name", "ks", bb, "sh", "-c", "trap 'echo got USR1; exit 9' USR1; while true; do sleep 0.1; done"]);
    // A `sleep` of its own (not the shell's command line, which names sleep from the start) runs only after the trap is set.
    await until(async () => /\ssleep 0\.1$/m.test((await d.docker(["top", "ks"])).stdout), "trap to be set");
    expect((await d.docker(["kill", "-s", "USR1", "ks"])).stdout).toBe("ks\n");
    expect((await d.docker(["wait", "ks"])).stdout).toBe("9\n");
    expect((await d.docker(["logs", "ks"])).stdout).toBe("got USR1\n");
    const notRunning = await d.docker(["kill", "ks"]);
    expect(notRunning.stderr).toContain("is not running");

    await d.docker(["create", "--name", "sa", bb, "sh", "-c", "echo started; exit 4"]);
    expect(await d.docker(["start", "-a", "sa"])).toMatchObject({ code: 4, stdout: "started\n" });

    await d.docker(["run", "-d", "--name", "att", bb, "sh", "-c", "while true; do echo tick; sleep 0.1; done"]);
    const att = Bun.spawn(["docker", "-H", d.host, "attach", "--no-stdin", "att"], { stdout: "pipe", stderr: "pipe" });
    let out = "";
    const reader = (async () => {
      for await (const chunk of att.stdout) out += new TextDecoder().decode(chunk);
    })();
    await until(() => out.includes("tick\n"), "attach to stream output");
    await d.docker(["kill", "att"]);
    expect(await att.exited).toBe(137); // docker attach exits with the container's code
    await reader;
  });

  test("rm -f, rm of a running container, container prune, system df", async () => {
    await d.docker(["run", "-d", "--name", "ex", bb, "sleep", "100"]);
    const busy = await d.docker(["rm", "ex"]);
    expect(busy.code).toBe(1);
    expect(busy.stderr).toMatch(/^Error response from daemon: You cannot remove a running container [0-9a-f]{64}\. Stop the container before attempting removal or force remove\n$/);
    expect((await d.docker(["rm", "-f", "ex"])).stdout).toBe("ex\n");
    const left = (await d.docker(["ps", "-a", "-q", "--no-trunc", "--filter", "status=exited", "--filter", "status=created"])).stdout.trim().split("\n").filter(Boolean);
    expect(left.length).toBeGreaterThan(0);
    const pr = await d.docker(["container", "prune", "-f"]);
    expect(pr.stdout).toMatch(/^Deleted Containers:\n([0-9a-f]{64}\n)+\nTotal reclaimed space: \S+\n$/);
    expect([...pr.stdout.matchAll(/[0-9a-f]{64}/g)].map((m) => m[0]).sort()).toEqual(left.sort());
    expect((await d.docker(["ps", "-a", "-q", "--filter", "status=exited"])).stdout).toBe("");
    const df = await d.docker(["system", "df"]);
    expect(df.stdout).toMatch(/^TYPE\s+TOTAL\s+ACTIVE\s+SIZE\s+RECLAIMABLE\n/);
    expect(df.stdout).toMatch(/^Images\s+\d+\s+\d+\s+\S+\s+\S+/m);
    expect(df.stdout).toMatch(/^Containers\s+\d+\s+\d+\s+\S+\s+\S+/m);
    expect(df.stdout).toMatch(/^Local Volumes\s+\d+\s+\d+/m);
    expect(df.stdout).toMatch(/^Build Cache\s+0\s+0\s+0B\s+0B/m);
    const v = await d.docker(["system", "df", "-v"]);
    expect(v.stdout).toContain("Images space usage:");
    expect(v.stdout).toContain("Containers space usage:");
  });

  test("events --filter and --format", async () => {
    const start = Math.floor(Date.now() / 1000) - 1;
    await d.docker(["run", "--rm", "--name", "evf", "--label", "k=v", bb, "sh", "-c", "exit 2"]);
    const end = String(Math.floor(Date.now() / 1000) + 1);
    const die = await d.docker(["events", "--since", String(start), "--until", end, "--filter", "event=die", "--filter", "label=k=v"]);
    const lines = die.stdout.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^\\d{4}-\\d\\d-\\d\\dT\\S+ container die [0-9a-f]{64} \\(.*exitCode=2.*image=${bb.replace(/[.]/g, "\\.")}.*k=v.*name=evf\\)$`));
    const j = await d.docker(["events", "--since", String(start), "--until", end, "--filter", "container=evf", "--filter", "type=container", "--format", "{{json .}}"]);
    const evs = j.stdout.trim().split("\n").map((l) => JSON.parse(l));
    expect(evs.map((e: { Action: string }) => e.Action)).toEqual(["create", "attach", "start", "die", "destroy"]);
    expect(evs[0]).toMatchObject({ Type: "container", status: "create", from: bb, scope: "local", Actor: { Attributes: { name: "evf", image: bb, k: "v" } } });
  });
  test("API version negotiation: /_ping headers, pinned older versions, too old/new", async () => {
    const ping = await fetch("http://localhost/_ping", { method: "HEAD", unix: d.sock });
    expect(ping.status).toBe(200);
    expect(ping.headers.get("api-version")).toBe("1.51");
    expect(ping.headers.get("ostype")).toBe("linux");
    expect(ping.headers.get("docker-experimental")).toBe("false");
    expect(ping.headers.get("cache-control")).toBe("no-cache, no-store, must-revalidate");
    const old = await fetch("http://localhost/v1.12/version", { unix: d.sock });
    expect(old.status).toBe(400);
    expect(await old.json()).toEqual({ message: "client version 1.12 is too old. Minimum supported API version is 1.24, please upgrade your client to a newer version" });
    const newer = await fetch("http://localhost/v1.99/version", { unix: d.sock });
    expect(newer.status).toBe(400);
    expect(await newer.json()).toEqual({ message: "client version 1.99 is too new. Maximum supported API version is 1.51" });
    const nf = await fetch("http://localhost/v1.51/containers/nope/json", { unix: d.sock });
    expect(nf.status).toBe(404);
    expect(nf.headers.get("content-type")).toContain("application/json");
    expect(await nf.json()).toEqual({ message: "No such container: nope" });

    // DOCKER_API_VERSION pins the CLI's version (no negotiation); 1.24 makes `run --rm` remove client-side
    const pinned = (v: string, args: string[]) => run(["docker", "-H", d.host, ...args], { env: { DOCKER_API_VERSION: v } });
    const v41 = await pinned("1.41", ["version", "-f", "{{.Client.APIVersion}} {{.Server.APIVersion}}"]);
    expect(v41.stdout).toBe("1.41 1.51\n");
    expect(await pinned("1.41", ["run", "--rm", bb, "echo", "v41"])).toMatchObject({ code: 0, stdout: "v41\n" });
    expect(await pinned("1.24", ["run", "--rm", "--name", "v24", bb, "echo", "v24"])).toMatchObject({ code: 0, stdout: "v24\n" });
    expect((await d.docker(["ps", "-a", "-q", "--filter", "name=v24"])).stdout).toBe("");
    const ps24 = await pinned("1.24", ["ps", "-a", "--format", "{{.Names}}"]);
    expect(ps24.code).toBe(0);
  });
});
