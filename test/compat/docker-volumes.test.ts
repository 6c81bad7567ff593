// The stock docker CLI's volume commands and mount flags against a ctr daemon,
// with dockerd's output and messages as the reference.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { hasDocker, isRoot, startDaemon, type TestDaemon } from "../helpers/daemon.ts";
import { haveRegistry, seedBusybox, startRegistry, type RunningRegistry } from "../helpers/registry.ts";
import { seedVolumeImages } from "../../scripts/fixtures/volume-images.ts";
import { unmountAllUnder } from "../../src/kernel/mount.ts";

setDefaultTimeout(60_000);

const ready = hasDocker && isRoot && haveRegistry;
if (!hasDocker) console.warn("skip: docker CLI not installed");
else if (!isRoot) console.warn("skip: containers need root");
else if (!haveRegistry) console.warn("skip: docker-registry is not installed");

describe.skipIf(!ready)("docker volume commands and mounts against ctr", () => {
  let d: TestDaemon;
  let reg: RunningRegistry;
  let bb: string;
  let withVolume: string;
  let host: string;
  const docker = (args: string[]) => d.docker(args);
  const names = async (...filters: string[]) => (await docker(["volume", "ls", "-q", ...filters.flatMap((f) => ["--filter", f])])).stdout.split("\n").filter(Boolean);

  beforeAll(async () => {
    reg = await startRegistry();
    bb = await seedBusybox(reg.host);
    withVolume = (await seedVolumeImages(reg.host)).withVolume;
    d = await startDaemon();
    host = mkdtempSync(join(tmpdir(), "ctr-dvol-"));
    for (const ref of [bb, withVolume]) expect((await docker(["pull", "-q", ref])).code).toBe(0);
  });
  afterAll(async () => {
    const ids = (await d?.docker(["ps", "-aq"]))?.stdout.split("\n").filter(Boolean) ?? [];
    if (ids.length) await d.docker(["rm", "-f", ...ids]);
    await d?.stop();
    if (d) unmountAllUnder(join(d.root, "volumes"));
    await d?.[Symbol.asyncDispose]();
    await reg?.stop();
    if (host) rmSync(host, { recursive: true, force: true });
  });

  test("volume create/ls/inspect with labels and driver options; the options take effect", async () => {
    expect((await docker(["volume", "create", "--label", "suite=dv", "-o", "type=tmpfs", "-o", "device=tmpfs", "-o", "o=size=1m", "dv"])).stdout).toBe("dv\n");
    const anon = (await docker(["volume", "create", "--label", "suite=dv"])).stdout.trim();
    expect(anon).toMatch(/^[0-9a-f]{64}$/);
    const ls = (await docker(["volume", "ls"])).stdout;
    expect(ls).toMatch(/^DRIVER\s+VOLUME NAME\n/);
    expect(ls).toMatch(/\nlocal\s+dv\n/);
    expect((await names("label=suite=dv")).sort()).toEqual([anon, "dv"].sort());
    expect(await names("name=dv", "label=suite")).toEqual(["dv"]);
    expect((await docker(["volume", "ls", "--filter", "name=dv", "--format", "{{.Name}} {{.Driver}} {{.Labels}} {{.Scope}}"])).stdout).toBe("dv local suite=dv local\n");
    const [info] = JSON.parse((await docker(["volume", "inspect", "dv"])).stdout);
    expect(info).toEqual({
      CreatedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
      Driver: "local",
      Labels: { suite: "dv" },
      Mountpoint: join(d.root, "volumes", "dv", "_data"),
      Name: "dv",
      Options: { device: "tmpfs", o: "size=1m", type: "tmpfs" },
      Scope: "local",
    });
    expect((await docker(["volume", "inspect", "-f", "{{.Mountpoint}}", "dv"])).stdout).toBe(`${info.Mountpoint}\n`);
    expect((await docker(["run", "--rm", "-v", "dv:/x", bb, "grep", " /x ", "/proc/mounts"])).stdout).toMatch(/^tmpfs \/x tmpfs .*size=1024k/);
    const bad = await docker(["volume", "create", "-o", "bogus=1", "badv"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('Error response from daemon: create badv: invalid option: "bogus"');
    expect((await docker(["volume", "rm", "dv", anon])).stdout).toBe(`dv\n${anon}\n`);
  });

  test("volume rm: in use is a conflict naming the container, missing is not found unless -f", async () => {
    const id = (await docker(["run", "-d", "--name", "holder", "-v", "held:/h", bb, "sleep", "100"])).stdout.trim();
    const busy = await docker(["volume", "rm", "held"]);
    expect(busy.code).toBe(1);
    expect(busy.stderr.trim()).toBe(`Error response from daemon: remove held: volume is in use - [${id}]`);
    await expect(d.client.request("DELETE", "/volumes/held")).rejects.toMatchObject({ status: 409 });
    expect((await docker(["rm", "-f", "holder"])).code).toBe(0);
    expect((await docker(["volume", "rm", "held"])).stdout).toBe("held\n");
    const missing = await docker(["volume", "rm", "nosuchvol"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim()).toBe("Error response from daemon: get nosuchvol: no such volume");
    expect((await docker(["volume", "rm", "-f", "nosuchvol"])).code).toBe(0);
  });

  test("run -v and --mount: named, bind, read-only, tmpfs, --volumes-from, and the bind-source message", async () => {
    writeFileSync(join(host, "f"), "host file\n");
    expect((await docker(["run", "--rm", "-v", "dnamed:/n", bb, "sh", "-c", "echo kept > /n/k"])).code).toBe(0);
    expect((await docker(["run", "--rm", "--mount", "type=volume,source=dnamed,target=/m,readonly", bb, "cat", "/m/k"])).stdout).toBe("kept\n");
    const ro = await docker(["run", "--rm", "-v", `${host}:/h:ro`, bb, "sh", "-c", "cat /h/f; touch /h/g"]);
    expect(ro.stdout).toBe("host file\n");
    expect(ro.stderr).toContain("Read-only file system");
    expect((await docker(["run", "--rm", "--mount", `type=bind,source=${host},target=/b`, bb, "sh", "-c", "echo w > /b/w"])).code).toBe(0);
    expect(existsSync(join(host, "w"))).toBe(true);
    const t = await docker(["run", "--rm", "--tmpfs", "/t:size=2m", "--mount", "type=tmpfs,target=/u,tmpfs-size=1m", bb, "grep", "-E", " /(t|u) ", "/proc/mounts"]);
    expect(t.stdout).toMatch(/^tmpfs \/t tmpfs rw,nosuid,nodev,noexec,.*size=2048k/m);
    expect(t.stdout).toMatch(/^tmpfs \/u tmpfs rw,nosuid,nodev,noexec,.*size=1024k/m);
    expect((await docker(["create", "--name", "src", "-v", "dnamed:/n", bb, "true"])).code).toBe(0);
    expect((await docker(["run", "--rm", "--volumes-from", "src", bb, "cat", "/n/k"])).stdout).toBe("kept\n");
    expect((await docker(["run", "--rm", "--volumes-from", "src:ro", bb, "touch", "/n/x"])).code).not.toBe(0);
    expect((await docker(["rm", "src"])).code).toBe(0);
    const nope = join(host, "nope");
    const refused = await docker(["run", "--rm", "--mount", `type=bind,source=${nope},target=/n`, bb, "true"]);
    expect(refused.code).toBe(125);
    expect(refused.stderr).toContain(`Error response from daemon: invalid mount config for type "bind": bind source path does not exist: ${nope}`);
    expect(existsSync(nope)).toBe(false);
    expect((await docker(["volume", "rm", "dnamed"])).code).toBe(0);
  });

  test("image VOLUME: anonymous, pre-populated, in inspect's Mounts; rm -v and prune remove anonymous ones only", async () => {
    const r = await docker(["run", "--name", "anonc", withVolume, "cat", "/data/seed"]);
    expect(r.stdout).toBe("seeded\n");
    const mounts = (await docker(["inspect", "-f", "{{range .Mounts}}{{.Type}} {{.Destination}} {{.RW}} {{.Driver}}{{end}}", "anonc"])).stdout;
    expect(mounts).toBe("volume /data true local\n");
    const anon = (await docker(["inspect", "-f", "{{range .Mounts}}{{.Name}}{{end}}", "anonc"])).stdout.trim();
    expect(await names("dangling=false")).toContain(anon);
    expect((await docker(["rm", "-v", "anonc"])).code).toBe(0);
    expect(await names()).not.toContain(anon);
    // A container removed without -v leaves its anonymous volume dangling; prune takes it, not named ones.
    const c2 = (await docker(["create", withVolume, "true"])).stdout.trim();
    const anon2 = (await docker(["inspect", "-f", "{{range .Mounts}}{{.Name}}{{end}}", c2])).stdout.trim();
    expect((await docker(["rm", c2])).code).toBe(0);
    expect((await docker(["volume", "create", "named-keep"])).code).toBe(0);
    const prune = await docker(["volume", "prune", "-f"]);
    expect(prune.stdout).toMatch(new RegExp(`^Deleted Volumes:\\n${anon2}\\n\\nTotal reclaimed space: \\S+B\\n$`));
    expect(await names()).toContain("named-keep");
    const all = await docker(["volume", "prune", "-a", "-f"]);
    expect(all.stdout).toContain("named-keep\n");
    expect(await names()).toEqual([]);
  });

  test("system df counts volumes and lists them with -v", async () => {
    expect((await docker(["run", "--rm", "-v", "dfvol:/d", bb, "sh", "-c", "head -c 3000 /dev/zero > /d/z"])).code).toBe(0);
    const df = (await docker(["system", "df"])).stdout;
    expect(df).toMatch(/\nLocal Volumes\s+1\s+0\s+3kB\s+3kB \(100%\)\n/);
    const v = (await docker(["system", "df", "-v"])).stdout;
    expect(v).toMatch(/Local Volumes space usage:\n\nVOLUME NAME\s+LINKS\s+SIZE\ndfvol\s+0\s+3kB\n/);
    expect((await docker(["volume", "rm", "dfvol"])).code).toBe(0);
  });
});
