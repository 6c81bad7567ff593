// Volumes and mounts through ctr (and the docker CLI) against a real daemon.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { hasDocker, isRoot, startDaemon, type TestDaemon, removeAllContainers } from "../../helpers/daemon.ts";
import { haveRegistry, seedBusybox, startRegistry, type RunningRegistry } from "../../helpers/registry.ts";
import { seedVolumeImages } from "../../../scripts/fixtures/volume-images.ts";
import { unmountAllUnder } from "../../../src/kernel/mount.ts";

setDefaultTimeout(60_000);

const ready = isRoot && haveRegistry;
if (!isRoot) console.warn("skip: containers need root");
else if (!haveRegistry) console.warn("skip: docker-registry is not installed");

describe.skipIf(!ready)("volumes and mounts", () => {
  let reg: RunningRegistry;
  let bb: string;
  let imgs: { withVolume: string; hostile: string };
  let d: TestDaemon;
  let host: string;
  const ctr = (args: string[]) => d.ctr(args);
  const sh = async (args: string[], script: string) => ctr(["run", "--rm", ...args, bb, "sh", "-c", script]);

  beforeAll(async () => {
    reg = await startRegistry();
    bb = await seedBusybox(reg.host);
    imgs = await seedVolumeImages(reg.host);
    d = await startDaemon();
    host = mkdtempSync(join(tmpdir(), "ctr-vol-"));
    for (const ref of [bb, imgs.withVolume, imgs.hostile]) expect((await ctr(["pull", "-q", ref])).code).toBe(0);
  });
  afterAll(async () => {
    await removeAllContainers(d);
    await d?.stop();
    // Driver-option volumes stay mounted while they exist: detach them before the root goes.
    if (d) unmountAllUnder(join(d.root, "volumes"));
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

  test("an image VOLUME gets an anonymous volume pre-populated with owners, modes and symlinks; rm -v and --rm remove it", async () => {
    const before = new Set((await ctr(["volume", "ls", "-q"])).stdout.split("\n").filter(Boolean));
    const r = await ctr(["run", "--name", "anon", imgs.withVolume, "sh", "-c", "stat -c '%n %u:%g %a' /data /data/seed /data/sub /data/sub/run.sh; readlink /data/link; cat /data/seed"]);
    expect(r.stdout).toBe("/data 1000:1000 750\n/data/seed 1000:1000 640\n/data/sub 1001:1002 700\n/data/sub/run.sh 0:0 755\nseed\nseeded\n");
    const made = (await ctr(["volume", "ls", "-q"])).stdout.split("\n").filter((v) => v && !before.has(v));
    expect(made.length).toBe(1);
    const mounts = JSON.parse((await ctr(["inspect", "-f", "{{json .Mounts}}", "anon"])).stdout);
    expect(mounts).toEqual([expect.objectContaining({ Type: "volume", Name: made[0], Destination: "/data", Driver: "local", RW: true })]);
    const vol = JSON.parse((await ctr(["volume", "inspect", made[0]!])).stdout)[0];
    expect(vol.Labels).toEqual({ "com.docker.volume.anonymous": "" });
    expect((await ctr(["rm", "-v", "anon"])).code).toBe(0);
    expect((await ctr(["volume", "ls", "-q"])).stdout.split("\n")).not.toContain(made[0]);
    // --rm removes anonymous volumes too; a named volume over the VOLUME path gets the copy-up instead.
    expect((await ctr(["run", "--rm", imgs.withVolume, "true"])).code).toBe(0);
    expect((await ctr(["run", "--rm", "-v", "named-over:/data", imgs.withVolume, "stat", "-c", "%u:%g %a", "/data/seed"])).stdout).toBe("1000:1000 640\n");
    expect((await ctr(["volume", "ls", "-q"])).stdout.split("\n").filter((v) => v && !before.has(v))).toEqual(["named-over"]);
    expect((await ctr(["volume", "rm", "named-over"])).code).toBe(0);
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

  test("symlinked mount targets in a hostile image cannot put a bind, a volume or a tmpfs onto the host", async () => {
    const marker = `ctr-mount-escape-${process.pid}`;
    const src = mkdtempSync(join(host, "bindsrc-"));
    const hostMounts = () => readFileSync("/proc/self/mounts", "utf8").split("\n").filter((l) => l.split(" ")[1] === "/etc").length;
    const etcMounts = hostMounts();
    for (const target of ["/evil", "/up", "/nest/deep"]) {
      // Each resolves inside the container's root: the mount covers the container's own /etc.
      const r = await ctr(["run", "--rm", "-v", `${src}:${target}`, imgs.hostile, "sh", "-c", `touch ${target}/${marker} && ls /etc/${marker}`]);
      expect(r.stdout).toBe(`/etc/${marker}\n`);
    }
    const v = await ctr(["run", "--rm", "-v", "hostilevol:/up", imgs.hostile, "sh", "-c", `touch /etc/${marker}-vol && grep -c ' /etc ' /proc/mounts`]);
    expect(v.stdout).toBe("1\n");
    const t = await ctr(["run", "--rm", "--tmpfs", "/evil:size=1m", imgs.hostile, "sh", "-c", "grep ' /etc ' /proc/mounts"]);
    expect(t.stdout).toMatch(/^tmpfs \/etc tmpfs /);
    // The host's /etc never saw the files nor a mount; they are in the bind source and the volume.
    expect(existsSync(join("/etc", marker))).toBe(false);
    expect(existsSync(join("/etc", `${marker}-vol`))).toBe(false);
    expect(hostMounts()).toBe(etcMounts);
    expect(existsSync(join(src, marker))).toBe(true);
    expect((await ctr(["run", "--rm", "-v", "hostilevol:/v", bb, "ls", `/v/${marker}-vol`])).code).toBe(0);
    expect((await ctr(["volume", "rm", "hostilevol"])).code).toBe(0);
  });

  test("--tmpfs is a tmpfs of the asked size; --volumes-from shares the data", async () => {
    const t = await sh(["--tmpfs", "/t:size=1m"], "grep ' /t ' /proc/mounts");
    expect(t.stdout).toMatch(/^tmpfs \/t tmpfs rw,nosuid,nodev,noexec,.*size=1024k/);
    const m = await sh(["--mount", "type=tmpfs,target=/m,tmpfs-size=2m"], "grep ' /m ' /proc/mounts");
    expect(m.stdout).toMatch(/^tmpfs \/m tmpfs .*size=2048k/);
    expect((await ctr(["create", "--name", "holder", "-v", "shared:/s", bb, "true"])).code).toBe(0);
    expect((await sh(["--volumes-from", "holder"], "echo via > /s/x")).code).toBe(0);
    expect((await sh(["-v", "shared:/q"], "cat /q/x")).stdout).toBe("via\n");
    const ro = await sh(["--volumes-from", "holder:ro"], "echo no > /s/y");
    expect(ro.code).not.toBe(0);
  });

  test("a volume with tmpfs driver options is that tmpfs while it exists; rm unmounts it", async () => {
    expect((await ctr(["volume", "create", "-o", "type=tmpfs", "-o", "device=tmpfs", "-o", "o=size=3m", "tv"])).stdout).toBe("tv\n");
    expect((await sh(["-v", "tv:/t"], "grep ' /t ' /proc/mounts && echo in-tmpfs > /t/f")).stdout).toMatch(/^tmpfs \/t tmpfs .*size=3072k/);
    expect((await sh(["-v", "tv:/u"], "cat /u/f")).stdout).toBe("in-tmpfs\n");
    const mp = join(d.root, "volumes", "tv", "_data");
    expect(readFileSync("/proc/self/mounts", "utf8")).toContain(` ${mp} tmpfs `);
    expect((await ctr(["volume", "rm", "tv"])).code).toBe(0);
    expect(readFileSync("/proc/self/mounts", "utf8")).not.toContain(mp);
    // --mount's volume-opt makes the same kind of volume; volume-nocopy leaves a new volume empty.
    const vo = await sh(["--mount", "type=volume,source=tv2,target=/w,volume-opt=type=tmpfs,volume-opt=device=tmpfs,volume-opt=o=size=1m"], "grep ' /w ' /proc/mounts");
    expect(vo.stdout).toMatch(/size=1024k/);
    expect((await ctr(["volume", "rm", "tv2"])).code).toBe(0);
    expect((await sh(["--mount", "type=volume,source=nc,target=/etc,volume-nocopy"], "ls -A /etc | wc -l")).stdout.trim()).toBe("0");
    expect((await sh(["-v", "nc2:/etc:nocopy"], "ls -A /etc | wc -l")).stdout.trim()).toBe("0");
    const bad = await ctr(["volume", "create", "-o", "size=1", "badopt"]);
    expect(bad.stderr).toContain('invalid option: "size"');
    await ctr(["volume", "rm", "nc", "nc2"]);
  });

  test("volume ls filters, inspect, rm -f, prune and system df", async () => {
    expect((await ctr(["volume", "create", "--label", "env=prod", "--label", "grp=t", "lab1"])).code).toBe(0);
    expect((await ctr(["volume", "create", "--label", "grp=t", "lab2"])).code).toBe(0);
    const q = async (...f: string[]) => (await ctr(["volume", "ls", "-q", ...f.flatMap((x) => ["--filter", x])])).stdout.split("\n").filter(Boolean);
    expect(await q("label=env=prod")).toEqual(["lab1"]);
    expect(await q("label=env")).toEqual(["lab1"]);
    expect(await q("label=grp=t")).toEqual(["lab1", "lab2"]);
    expect(await q("name=lab")).toEqual(["lab1", "lab2"]);
    expect(await q("dangling=true", "name=lab")).toEqual(["lab1", "lab2"]);
    expect(await q("dangling=false")).not.toContain("lab1");
    const info = JSON.parse((await ctr(["volume", "inspect", "lab1"])).stdout)[0];
    expect(Object.keys(info).sort()).toEqual(["CreatedAt", "Driver", "Labels", "Mountpoint", "Name", "Options", "Scope"]);
    expect(info).toMatchObject({ Driver: "local", Labels: { env: "prod", grp: "t" }, Options: null, Scope: "local", Mountpoint: join(d.root, "volumes", "lab1", "_data") });
    const gone = await ctr(["volume", "rm", "nosuchvol"]);
    expect(gone.code).not.toBe(0);
    expect(gone.stderr).toContain("no such volume");
    expect((await ctr(["volume", "rm", "-f", "nosuchvol"])).code).toBe(0);
    const df = (await ctr(["system", "df"])).stdout;
    const n = (await ctr(["volume", "ls", "-q"])).stdout.split("\n").filter(Boolean).length;
    expect(df).toMatch(new RegExp(`Local Volumes\\s+${n}\\s`));
    // Without -a only anonymous volumes go; -a takes the unused named ones and says how much it freed.
    expect((await sh(["-v", "lab2:/x"], "head -c 5000 /dev/zero > /x/z")).code).toBe(0);
    // (The filter keeps this suite's other volumes.)
    expect((await ctr(["volume", "prune", "-f", "--filter", "label=grp=t"])).stdout).not.toContain("lab1");
    const all = await ctr(["volume", "prune", "-a", "-f", "--filter", "label=grp=t"]);
    expect(all.stdout).toContain("lab1\n");
    expect(all.stdout).toContain("lab2\n");
    expect(all.stdout).toMatch(/Total reclaimed space: 5kB/);
    expect(await q("name=lab")).toEqual([]);
  });

  test("bad specs are refused with Docker's messages and leave no volume in use", async () => {
    const dup = await sh(["-v", "dupv:/x", "-v", `${host}:/x`], "true");
    expect(dup.stderr).toContain("Duplicate mount point: /x");
    const root = await sh(["-v", "rootv:/"], "true");
    expect(root.stderr).toContain("destination can't be '/'");
    // A named volume taken before the failing --mount is not held by the container that never was.
    const half = await sh(["-v", "halfv:/a", "--mount", `type=bind,source=${join(host, "absent")},target=/b`], "true");
    expect(half.code).not.toBe(0);
    expect((await ctr(["volume", "rm", "halfv"])).code).toBe(0);
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
