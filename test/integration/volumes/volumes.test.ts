// Volumes and mounts through ctr (and the docker CLI) against a real daemon.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { hasDocker, isRoot, startDaemon, type TestDaemon } from "../../helpers/daemon.ts";
import { haveRegistry, seedBusybox, startRegistry, type RunningRegistry } from "../../helpers/registry.ts";

setDefaultTimeout(60_000);

const ready = isRoot && haveRegistry;
if (!isRoot) console.warn("skip: containers need root");
else if (!haveRegistry) console.warn("skip: docker-registry is not installed");

describe.skipIf(!ready)("volumes and mounts", () => {
  let reg: RunningRegistry;
  let bb: string;
  let d: TestDaemon;
  let host: string;
  const ctr = (args: string[]) => d.ctr(args);
  const sh = async (args: string[], script: string) => ctr(["run", "--rm", ...args, bb, "sh", "-c", script]);

  beforeAll(async () => {
    reg = await startRegistry();
    bb = await seedBusybox(reg.host);
    d = await startDaemon();
    host = mkdtempSync(join(tmpdir(), "ctr-vol-"));
    expect((await ctr(["pull", "-q", bb])).code).toBe(0);
  });
  afterAll(async () => {
    const ids = (await d?.ctr(["ps", "-aq"]))?.stdout.split("\n").filter(Boolean) ?? [];
    if (ids.length) await d.ctr(["rm", "-f", ...ids]);
    await d?.[Symbol.asyncDispose]();
    await reg?.stop();
    if (host) rmSync(host, { recursive: true, force: true });
  });

  test("a named volume outlives its container and is seen by the next one", async () => {
    expect((await sh(["-v", "keep:/data"], "echo kept > /data/f")).code).toBe(0);
    expect((await sh(["-v", "keep:/data"], "cat /data/f")).stdout).toBe("kept\n");
    expect((await ctr(["volume", "ls", "-q"])).stdout.split("\n")).toContain("keep");
  });

  test("a new volume is filled from the image's content at its path (copy-up), once", async () => {
    const r = await sh(["-v", "etcvol:/etc"], "ls /etc/passwd && echo mine > /etc/mine");
    expect(r.stdout).toBe("/etc/passwd\n");
    // Mounted elsewhere, the volume holds the image's /etc plus what was written.
    expect((await sh(["-v", "etcvol:/v"], "ls /v/passwd /v/mine")).stdout).toBe("/v/mine\n/v/passwd\n");
    // Not empty any more: no second copy-up over the user's data.
    expect((await sh(["-v", "etcvol:/etc"], "cat /etc/mine")).stdout).toBe("mine\n");
  });

  test("an image VOLUME gets an anonymous, pre-populated volume; rm -v removes it", async () => {
    expect((await ctr(["run", "--name", "seedvol", bb, "sh", "-c", "mkdir /data && echo seed > /data/s"])).code).toBe(0);
    expect((await ctr(["commit", "-c", "VOLUME /data", "seedvol", "withvol:1"])).code).toBe(0);
    const before = new Set((await ctr(["volume", "ls", "-q"])).stdout.split("\n").filter(Boolean));
    expect((await ctr(["run", "--name", "anon", "withvol:1", "cat", "/data/s"])).stdout).toBe("seed\n");
    const made = (await ctr(["volume", "ls", "-q"])).stdout.split("\n").filter((v) => v && !before.has(v));
    expect(made.length).toBe(1);
    expect((await ctr(["rm", "-v", "anon"])).code).toBe(0);
    expect((await ctr(["volume", "ls", "-q"])).stdout.split("\n")).not.toContain(made[0]);
    // --rm removes anonymous volumes too.
    expect((await ctr(["run", "--rm", "withvol:1", "true"])).code).toBe(0);
    expect((await ctr(["volume", "ls", "-q"])).stdout.split("\n").filter((v) => v && !before.has(v))).toEqual([]);
    await ctr(["rm", "seedvol"]);
  });

  test(":ro refuses writes; binds see host changes live; -v creates a missing host dir, --mount refuses it", async () => {
    const r = await sh(["-v", "keep:/data:ro"], "echo x > /data/g");
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("Read-only file system");
    writeFileSync(join(host, "live"), "one\n");
    expect((await ctr(["run", "-d", "--name", "binder", "-v", `${host}:/h`, bb, "sleep", "100"])).code).toBe(0);
    expect((await ctr(["exec", "binder", "cat", "/h/live"])).stdout).toBe("one\n");
    writeFileSync(join(host, "live"), "two\n");
    expect((await ctr(["exec", "binder", "cat", "/h/live"])).stdout).toBe("two\n");
    await ctr(["rm", "-f", "binder"]);
    const missing = join(host, "made-by-v");
    expect((await sh(["-v", `${missing}:/m`], "touch /m/x")).code).toBe(0);
    expect(existsSync(join(missing, "x"))).toBe(true);
    const refused = await sh(["--mount", `type=bind,source=${join(host, "nope")},target=/n`], "true");
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain(`bind source path does not exist: ${join(host, "nope")}`);
  });

  test("a symlinked mount target in a hostile image cannot put a bind onto the host", async () => {
    expect((await ctr(["run", "--name", "hostile", bb, "sh", "-c", "ln -s ../../../../etc /evil && ln -s /etc /evil2"])).code).toBe(0);
    expect((await ctr(["commit", "hostile", "hostile:1"])).code).toBe(0);
    const marker = `ctr-mount-escape-${process.pid}`;
    const src = mkdtempSync(join(host, "bindsrc-"));
    for (const target of ["/evil", "/evil2"]) {
      const r = await ctr(["run", "--rm", "-v", `${src}:${target}`, "hostile:1", "sh", "-c", `touch ${target}/${marker} && ls /etc/${marker}`]);
      expect(r.code).toBe(0);
    }
    // The bind landed on the container's /etc (inside its root); the host's /etc never saw the file.
    expect(existsSync(join("/etc", marker))).toBe(false);
    expect(existsSync(join(src, marker))).toBe(true);
    await ctr(["rm", "hostile"]);
  });

  test("--tmpfs is a tmpfs of the asked size; --volumes-from shares the data", async () => {
    const t = await sh(["--tmpfs", "/t:size=1m"], "grep ' /t ' /proc/mounts");
    expect(t.stdout).toMatch(/^tmpfs \/t tmpfs .*size=1024k/);
    expect((await ctr(["create", "--name", "holder", "-v", "shared:/s", bb, "true"])).code).toBe(0);
    expect((await sh(["--volumes-from", "holder"], "echo via > /s/x")).code).toBe(0);
    expect((await sh(["-v", "shared:/q"], "cat /q/x")).stdout).toBe("via\n");
    const ro = await sh(["--volumes-from", "holder:ro"], "echo no > /s/y");
    expect(ro.code).not.toBe(0);
  });

  test("rm of a volume in use is refused; volumes survive a daemon restart", async () => {
    const busy = await ctr(["volume", "rm", "shared"]);
    expect(busy.code).not.toBe(0);
    expect(busy.stderr).toContain("volume is in use");
    await d.stop();
    d = await startDaemon([], { dir: d.dir });
    expect((await sh(["-v", "keep:/data"], "cat /data/f")).stdout).toBe("kept\n");
    await ctr(["rm", "holder"]);
    expect((await ctr(["volume", "rm", "shared"])).code).toBe(0);
  });

  describe.skipIf(!hasDocker)("through the docker CLI", () => {
    test("docker -v, --mount and volume create/ls/inspect/rm/prune", async () => {
      expect((await d.docker(["volume", "create", "--label", "k=v", "dvol"])).stdout).toBe("dvol\n");
      const ls = await d.docker(["volume", "ls"]);
      expect(ls.stdout).toMatch(/^DRIVER\s+VOLUME NAME\n/);
      expect(ls.stdout).toMatch(/local\s+dvol\n/);
      const info = JSON.parse((await d.docker(["volume", "inspect", "dvol"])).stdout)[0];
      expect(info).toMatchObject({ Name: "dvol", Driver: "local", Scope: "local", Labels: { k: "v" } });
      expect(info.Mountpoint).toContain("dvol");
      expect((await d.docker(["run", "--rm", "-v", "dvol:/x", bb, "sh", "-c", "echo d > /x/f"])).code).toBe(0);
      expect((await d.docker(["run", "--rm", "--mount", "type=volume,source=dvol,target=/y", bb, "cat", "/y/f"])).stdout).toBe("d\n");
      expect((await d.docker(["volume", "rm", "dvol"])).stdout).toBe("dvol\n");
      expect((await d.docker(["volume", "create", "spare"])).code).toBe(0);
      const prune = await d.docker(["volume", "prune", "-a", "-f"]);
      expect(prune.stdout).toContain("spare");
      expect(readFileSync("/proc/self/mounts", "utf8")).not.toContain(d.root + "/volumes");
    });
  });
});
