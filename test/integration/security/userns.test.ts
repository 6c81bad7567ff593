// User namespaces for real: a daemon started with --userns-remap default
// (ctremap created when absent), container root an unprivileged uid on the
// host, files it writes (rootfs, named volume) owned by the mapped uid,
// host-root files out of its reach, --userns=host, --userns=auto ranges, and
// networking/exec/logs/stop in a remapped container; dockerd started with
// --userns-remap default answers the same probes where it behaves the same.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { hasDocker, isRoot, startDaemon, until, type TestDaemon } from "../../helpers/daemon.ts";
import { dockerdSkipReason, startDockerd, type TestDockerd } from "../../helpers/dockerd.ts";
import { seedBusybox, startRegistry, type RunningRegistry } from "../../helpers/registry.ts";
import { intended } from "../../differential/intended-differences.ts";

setDefaultTimeout(120_000);
const haveUseradd = ["/usr/sbin/useradd", "/usr/sbin/usermod", "/usr/sbin/userdel"].every(existsSync);
const skip = !isRoot ? "needs root" : !hasDocker ? "needs the docker CLI" : !haveUseradd ? "needs useradd/usermod/userdel (passwd)" : undefined;
if (skip) console.warn(`skip: user namespaces: ${skip}`);
const differential = !skip && !dockerdSkipReason;
if (!skip && dockerdSkipReason) console.warn(`skip: user namespaces against dockerd: ${dockerdSkipReason}`);

const hasUser = (name: string) => readFileSync("/etc/passwd", "utf8").split("\n").some((l) => l.startsWith(`${name}:`));
/** The first subordinate range of a user, as /etc/subuid has it. */
function subuidStart(name: string): number {
  const line = readFileSync("/etc/subuid", "utf8").split("\n").find((l) => l.startsWith(`${name}:`));
  return Number(line?.split(":")[1]);
}
/** Host pids whose parent is `ppid` (the kernel here has no /proc/<pid>/task/<pid>/children). */
function childrenOf(ppid: number): number[] {
  return readdirSync("/proc")
    .filter((n) => /^\d+$/.test(n))
    .filter((n) => {
      try {
        const stat = readFileSync(`/proc/${n}/stat`, "utf8");
        return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === ppid;
      } catch {
        return false;
      }
    })
    .map(Number);
}
const statusUid = (pid: number) => Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]);
const mapLine = (text: string) => text.trim().split(/\s+/).map(Number);

describe.skipIf(!!skip)("user namespaces (--userns-remap default)", () => {
  let reg: RunningRegistry;
  let bb: string;
  let ctr: TestDaemon;
  let dkr: TestDockerd | undefined;
  let base: number;
  let hostDir: string;
  // Made by this suite (the daemons create them when absent): removed again at the end.
  const created: string[] = [];
  beforeAll(async () => {
    reg = await startRegistry();
    bb = await seedBusybox(reg.host);
    for (const u of ["ctremap", "dockremap"]) if (!hasUser(u)) created.push(u);
    // One after the other: both append to /etc/subuid.
    ctr = await startDaemon(["--userns-remap", "default"]);
    if (differential) dkr = await startDockerd({ extra: ["--userns-remap", "default"] });
    base = subuidStart("ctremap");
    hostDir = mkdtempSync(join(tmpdir(), "ctr-userns-host-"));
    chmodSync(hostDir, 0o755);
    await Promise.all([ctr.docker(["pull", "-q", bb]), dkr?.docker(["pull", "-q", bb])]);
  });
  afterAll(async () => {
    await Promise.all([ctr?.[Symbol.asyncDispose](), dkr?.[Symbol.asyncDispose]()]);
    await reg?.stop();
    if (hostDir) rmSync(hostDir, { recursive: true, force: true });
    // userdel also drops the user's lines in /etc/subuid and /etc/subgid.
    for (const u of created) Bun.spawnSync(["userdel", u], { stderr: "ignore" });
  });

  test("ctremap exists with subordinate ranges; info lists name=userns as dockerd does", async () => {
    expect(hasUser("ctremap")).toBe(true);
    expect(base).toBeGreaterThanOrEqual(100000);
    const opts = async (d: { docker: TestDaemon["docker"] }) => JSON.parse((await d.docker(["info", "--format", "{{json .SecurityOptions}}"])).stdout) as string[];
    expect(await opts(ctr)).toContain("name=userns");
    if (dkr) expect(await opts(dkr)).toContain("name=userns");
  });

  test("root inside, the mapped uid outside: id, uid_map, /proc/<pid>/status on the host", async () => {
    const r = await ctr.docker(["run", "--rm", bb, "sh", "-c", "id -u; cat /proc/self/uid_map; cat /proc/self/gid_map"]);
    expect(r.code).toBe(0);
    const [uid, uidMap, gidMap] = r.stdout.trim().split("\n");
    expect(uid).toBe("0");
    expect(mapLine(uidMap!)).toEqual([0, base, 65536]);
    expect(mapLine(gidMap!)).toEqual([0, subuidStart("ctremap"), 65536]);
    if (dkr) {
      const d = await dkr.docker(["run", "--rm", bb, "sh", "-c", "id -u; cat /proc/self/uid_map"]);
      const [duid, dmap] = d.stdout.trim().split("\n");
      expect([d.code, duid, mapLine(dmap!)]).toEqual([0, "0", [0, subuidStart("dockremap"), 65536]]);
    }
    const id = (await ctr.docker(["run", "-d", bb, "sleep", "300"])).stdout.trim();
    try {
      const pid = Number((await ctr.docker(["inspect", "-f", "{{.State.Pid}}", id])).stdout.trim());
      // State.Pid is `ctr init`, which supervises the command from outside the user namespace (listed).
      expect(intended("userns/state-pid/supervisor")).toBe(true);
      let cmd: number[] = [];
      await until(async () => (cmd = childrenOf(pid)).length > 0, "the container's command");
      expect(statusUid(cmd[0]!)).toBe(base);
      expect(readFileSync(`/proc/${cmd[0]}/uid_map`, "utf8").trim().split(/\s+/).map(Number)).toEqual([0, base, 65536]);
    } finally {
      await ctr.docker(["rm", "-f", id]);
    }
  });

  test("files the container writes are the mapped uid's on the host: rootfs and a named volume", async () => {
    const vol = `userns-vol-${process.pid}`;
    const r = await ctr.docker(["run", "--name", `uw-${process.pid}`, "-v", `${vol}:/data`, bb, "sh", "-c", "echo a > /new && echo b >> /etc/passwd && mkdir /data/d && echo c > /data/d/f && ls -ln /new /data/d/f"]);
    try {
      expect(r.code).toBe(0);
      // Inside, root's files: the image's (idmapped) and its own.
      expect(r.stdout).toMatch(/^-rw-r--r--\s+1 0\s+0\s+2 .* \/new$/m);
      const id = (await ctr.docker(["inspect", "-f", "{{.Id}}", `uw-${process.pid}`])).stdout.trim();
      const upper = join(ctr.root, "layers", "rw", id, "upper");
      for (const f of ["new", "etc/passwd"]) expect([f, statSync(join(upper, f)).uid, statSync(join(upper, f)).gid]).toEqual([f, base, subuidStart("ctremap")]);
      const mp = (await ctr.docker(["volume", "inspect", "-f", "{{.Mountpoint}}", vol])).stdout.trim();
      expect(statSync(join(mp, "d", "f")).uid).toBe(base);
      expect(statSync(join(mp, "d")).uid).toBe(base);
      // The image's layers themselves are untouched (an idmapped view, not a chowned copy).
      expect(statSync(join(ctr.root, "layers")).uid).toBe(0);
      // docker cp in and out speaks the container's ids: in, root's file is the container root's; out, /new is 0:0.
      const src = join(hostDir, "cp-in");
      writeFileSync(src, "in\n");
      expect((await ctr.docker(["cp", src, `uw-${process.pid}:/cp-in`])).code).toBe(0);
      expect([statSync(join(upper, "cp-in")).uid, statSync(join(upper, "cp-in")).gid]).toEqual([base, subuidStart("ctremap")]);
      const out = await ctr.docker(["cp", `uw-${process.pid}:/new`, "-"]);
      expect(out.code).toBe(0);
      // ustar header: name at 0, uid at 108 and gid at 116 (octal).
      expect([out.stdout.slice(0, 3), parseInt(out.stdout.slice(108, 116), 8), parseInt(out.stdout.slice(116, 124), 8)]).toEqual(["new", 0, 0]);
      // A commit maps the ids back, as dockerd does: in the image /new is root's, also outside a user namespace.
      const img = `userns-commit-${process.pid}`;
      expect((await ctr.docker(["commit", `uw-${process.pid}`, img])).code).toBe(0);
      try {
        const c = await ctr.docker(["run", "--rm", "--userns=host", img, "stat", "-c", "%u:%g %n", "/new", "/etc/passwd"]);
        expect([c.code, c.stdout]).toEqual([0, "0:0 /new\n0:0 /etc/passwd\n"]);
      } finally {
        await ctr.docker(["rmi", img]);
      }
    } finally {
      await ctr.docker(["rm", "-f", `uw-${process.pid}`]);
      await ctr.docker(["volume", "rm", vol]);
    }
  });

  test("root in the container is not root on a host-root file bind-mounted (0644)", async () => {
    const f = join(hostDir, "host-file");
    writeFileSync(f, "host\n", { mode: 0o644 });
    chmodSync(f, 0o644);
    const run = (d: { docker: TestDaemon["docker"] }) => d.docker(["run", "--rm", "-v", `${f}:/f`, bb, "sh", "-c", "cat /f; echo evil >> /f && echo WROTE; ls -ln /f"]);
    const r = await run(ctr);
    expect(r.stdout).toStartWith("host\n");
    expect(r.stdout).not.toContain("WROTE");
    expect(r.stderr).toContain("Permission denied");
    // The host's root shows as the overflow uid inside.
    expect(r.stdout).toMatch(/^-rw-r--r--\s+1 65534\s+65534 /m);
    expect(readFileSync(f, "utf8")).toBe("host\n");
    if (dkr) {
      const d = await run(dkr);
      expect([d.stdout.includes("WROTE"), d.stderr.includes("Permission denied")]).toEqual([false, true]);
    }
  });

  test("--userns=host opts out; --privileged needs it (dockerd's messages for privileged, host network, host pid)", async () => {
    const h = await ctr.docker(["run", "--rm", "--userns=host", bb, "cat", "/proc/self/uid_map"]);
    expect([h.code, mapLine(h.stdout)]).toEqual([0, [0, 0, 4294967295]]);
    expect((await ctr.docker(["run", "--rm", "--userns=host", "--privileged", bb, "true"])).code).toBe(0);
    for (const [flag, msg] of [
      ["--privileged", "privileged mode is incompatible with user namespaces.  You must run the container in the host namespace when running privileged mode"],
      ["--network=host", "cannot share the host's network namespace when user namespaces are enabled"],
      ["--pid=host", "cannot share the host PID namespace when user namespaces are enabled"],
    ] as const) {
      const both = [await ctr.docker(["create", flag, bb, "true"]), ...(dkr ? [await dkr.docker(["create", flag, bb, "true"])] : [])];
      for (const x of both) expect([flag, x.code, x.stderr]).toEqual([flag, 1, expect.stringContaining(`Error response from daemon: ${msg}`)]);
    }
  });

  test("--userns=auto: two containers get disjoint ranges of their own, kept across a daemon restart, freed on rm", async () => {
    const map = async (name: string) => mapLine((await ctr.docker(["start", "-a", name])).stdout);
    // The docker CLI knows only "host": ctr's own CLI sends "auto".
    const names = [`ua-${process.pid}`, `ub-${process.pid}`];
    try {
      for (const n of names) expect((await ctr.ctr(["create", "--name", n, "--userns=auto", bb, "cat", "/proc/self/uid_map"])).code).toBe(0);
      const [a, b] = [await map(names[0]!), await map(names[1]!)];
      expect(a[2]).toBe(65536);
      expect(b[2]).toBe(65536);
      const shared = [base, base + 65536];
      for (const m of [a, b]) expect(m[1]! >= shared[1]! || m[1]! + m[2]! <= shared[0]!).toBe(true);
      expect(a[1]! + 65536 <= b[1]! || b[1]! + 65536 <= a[1]!).toBe(true);
      await ctr.stop();
      ctr = await startDaemon(["--userns-remap", "default"], { dir: ctr.dir });
      expect(await map(names[0]!)).toEqual(a);
      await ctr.docker(["rm", names[0]!]);
      names.shift();
      const c = `uc-${process.pid}`;
      names.push(c);
      expect((await ctr.ctr(["create", "--name", c, "--userns=auto", bb, "cat", "/proc/self/uid_map"])).code).toBe(0);
      expect(await map(c)).toEqual(a);
    } finally {
      await ctr.docker(["rm", "-f", ...names]);
    }
  });

  test("a remapped container keeps networking (bridge, names, port 80 as its root), exec, logs and stop", async () => {
    const net = `userns-net-${process.pid}`;
    const srv = `us-${process.pid}`;
    expect((await ctr.docker(["network", "create", net])).code).toBe(0);
    try {
      const s = await ctr.docker(["run", "-d", "--name", srv, "--network", net, bb, "sh", "-c", "echo started; trap 'echo bye; exit 3' TERM; (while true; do echo hello | nc -l -p 80; done) & wait"]);
      expect(s.code).toBe(0);
      await until(async () => (await ctr.docker(["logs", srv])).stdout.includes("started"), "the server's first line");
      // Name resolution through the daemon's resolver, and a connection to port 80 bound by container root.
      let got = "";
      await until(async () => (got = (await ctr.docker(["run", "--rm", "--network", net, bb, "nc", srv, "80"])).stdout).includes("hello"), "an answer on port 80");
      expect(got).toContain("hello");
      const e = await ctr.docker(["exec", srv, "sh", "-c", "id -u; cat /proc/self/uid_map"]);
      expect(e.code).toBe(0);
      expect(e.stdout.split("\n")[0]).toBe("0");
      expect(mapLine(e.stdout.split("\n")[1]!)).toEqual([0, base, 65536]);
      expect((await ctr.docker(["exec", srv, "sh", "-c", "exit 7"])).code).toBe(7);
      expect((await ctr.docker(["stop", "-t", "10", srv])).code).toBe(0);
      expect((await ctr.docker(["inspect", "-f", "{{.State.ExitCode}}", srv])).stdout.trim()).toBe("3");
      expect((await ctr.docker(["logs", srv])).stdout).toContain("bye");
    } finally {
      await ctr.docker(["rm", "-f", srv]);
      await ctr.docker(["network", "rm", net]);
    }
  });
});
