// The native exec path (engine/execdriver/native-exec.ts: the daemon clones
// the command itself) against the real kernel: a busybox container started by
// the real driver, execs made with nativeExec() directly, and the same exec
// through `ctr init` (a driver without the native path) where both must agree.
// Needs root.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ExecDriver, StartError } from "../../../src/engine/execdriver/driver.ts";
import { coversNatively, nativeExec } from "../../../src/engine/execdriver/native-exec.ts";
import type { ExecSpec, RunningProcess } from "../../../src/engine/execdriver/types.ts";
import { ConflictError } from "../../../src/engine/errors.ts";
import { capMask, DOCKER_DEFAULT_CAPS } from "../../../src/kernel/capabilities.ts";
import { newCgroupManager } from "../../../src/kernel/cgroups/index.ts";
import { compileFilter } from "../../../src/kernel/seccomp/compile.ts";
import { collect, outcome, Sandbox, skipReason } from "./env.ts";

if (skipReason) console.warn(`skipping native exec integration tests: ${skipReason}`);

const hex = (m: bigint) => m.toString(16).padStart(16, "0");
const startError = (m: string, code: number) => new StartError(m, code);

async function until(what: string, fn: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(5);
  }
}

describe.skipIf(!!skipReason)("native exec (root)", () => {
  const sb = skipReason ? null! : new Sandbox();
  const cgroups = newCgroupManager();
  const driver = new ExecDriver({ cgroups });
  const hostDir = mkdtempSync(join(tmpdir(), "ctr-native-exec-"));
  let id = "";
  let pid1 = 0;
  let p1: RunningProcess;

  beforeAll(async () => {
    const spec = sb.spec(["sleep", "1000"]);
    p1 = await driver.start(spec);
    id = spec.id;
    pid1 = p1.pid;
  });
  afterAll(async () => {
    p1?.kill(9);
    await p1?.exited.catch(() => {});
    await driver.cleanup(id).catch(() => {});
    sb?.cleanup();
    rmSync(hostDir, { recursive: true, force: true });
  });

  const execSpec = (args: string[], over: Partial<ExecSpec> = {}): ExecSpec => ({ args, env: ["PATH=/bin"], cwd: "/", user: "", terminal: false, capabilities: [...DOCKER_DEFAULT_CAPS], noNewPrivileges: true, ...over });
  const native = (args: string[], over: Partial<ExecSpec> = {}) => nativeExec(id, pid1, cgroups.procsFiles(id), execSpec(args, over), startError);
  const sh = async (script: string, over: Partial<ExecSpec> = {}) => outcome(await native(["sh", "-c", script], over));
  /** The StartError (or other) an exec that cannot start throws. */
  const failure = async (args: string[], over: Partial<ExecSpec> = {}): Promise<Error> => {
    try {
      await native(args, over);
    } catch (e) {
      return e as Error;
    }
    throw new Error(`${args.join(" ")} started`);
  };

  test("every exec goes native, with a terminal or into a user namespace too; one with an AppArmor profile does not", () => {
    expect(coversNatively(execSpec(["true"]))).toBe(true);
    expect(coversNatively(execSpec(["true"], { terminal: true }))).toBe(true);
    expect(coversNatively(execSpec(["true"], { userns: true }))).toBe(true);
    expect(coversNatively(execSpec(["true"], { confinement: { apparmorProfile: "docker-default" } }))).toBe(false);
    expect(coversNatively(execSpec(["true"], { confinement: { apparmorProfile: "unconfined" } }))).toBe(true);
  });

  test("it is a child of ours inside the container's pid namespace, not pid 1, and exits with its status", async () => {
    const e = await native(["sh", "-c", "read x; echo $$; tr '\\0' ' ' < /proc/1/cmdline; exit 5"]);
    const ppid = Number(readFileSync(`/proc/${e.pid}/stat`, "utf8").split(") ")[1]!.split(" ")[1]);
    e.stdin!.write("go\n");
    const r = await outcome(e);
    expect(ppid).toBe(process.pid);
    expect(Number(r.out.split("\n")[0])).toBeGreaterThan(1);
    expect(r.out.split("\n")[1]).toBe("sleep 1000 ");
    expect(r.exit).toEqual({ exitCode: 5, signal: null, oomKilled: false });
  });

  test("same namespaces and cgroups as the container's pid 1", async () => {
    const e = await native(["sh", "-c", "for n in pid mnt net uts ipc cgroup; do readlink /proc/self/ns/$n; done; read x; cat /proc/self/cgroup; echo; cat /proc/1/cgroup"]);
    // As the host sees it, and as the container's cgroup namespace shows it (its root = the container's cgroup).
    const hostView = readFileSync(`/proc/${e.pid}/cgroup`, "utf8");
    e.stdin!.write("go\n");
    const r = await outcome(e);
    const ns = ["pid", "mnt", "net", "uts", "ipc", "cgroup"].map((n) => readlinkSync(`/proc/${pid1}/ns/${n}`));
    expect(hostView).toBe(readFileSync(`/proc/${pid1}/cgroup`, "utf8"));
    const [own, ofPid1] = r.out.split("\n").slice(ns.length).join("\n").split("\n\n");
    expect(r.out.split("\n").slice(0, ns.length)).toEqual(ns);
    expect(own).toBe(ofPid1!.trimEnd());
    expect(own).toContain(":/\n");
  });

  test("in the cgroup while it runs (pids of the container include it)", async () => {
    const e = await native(["sleep", "100"]);
    expect(driver.pids(id)).toContain(e.pid);
    e.kill("SIGKILL");
    expect((await outcome(e)).exit).toEqual({ exitCode: 137, signal: 9, oomKilled: false });
  });

  test("root keeps the container's capabilities; another user none; no_new_privs; the bounding set either way", async () => {
    const keep = hex(capMask(DOCKER_DEFAULT_CAPS));
    const status = "grep -E '^(CapEff|CapPrm|CapBnd|CapInh|CapAmb|NoNewPrivs):' /proc/self/status | tr '\\t' ' '";
    expect((await sh(status)).out).toBe(`CapInh: ${hex(0n)}\nCapPrm: ${keep}\nCapEff: ${keep}\nCapBnd: ${keep}\nCapAmb: ${hex(0n)}\nNoNewPrivs: 1\n`);
    expect((await sh(status, { user: "1000:1000", noNewPrivileges: false })).out).toBe(`CapInh: ${hex(0n)}\nCapPrm: ${hex(0n)}\nCapEff: ${hex(0n)}\nCapBnd: ${keep}\nCapAmb: ${hex(0n)}\nNoNewPrivs: 0\n`);
  });

  test("the container's seccomp filter applies (with and without no_new_privs), rlimits too", async () => {
    const prog = compileFilter({ defaultAction: "SCMP_ACT_ALLOW", architectures: [], syscalls: [{ names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO", errnoRet: 1 }] });
    const confinement = { seccomp: Buffer.from(prog).toString("base64"), rlimits: [{ resource: 7, soft: 321, hard: 321 }] };
    for (const noNewPrivileges of [true, false]) {
      const r = await sh("grep '^Seccomp:' /proc/self/status | tr '\\t' ' '; ulimit -n; mkdir /tmp/blocked 2>&1 || echo refused", { confinement, noNewPrivileges });
      expect(r.out.split("\n").filter(Boolean)).toEqual(["Seccomp: 2", "321", expect.stringContaining("Operation not permitted"), "refused"]);
    }
  });

  test("users and groups by name from the container's own /etc/passwd and /etc/group", async () => {
    await sh("echo app:x:1001:1001:app:/home/app:/bin/sh >> /etc/passwd; printf 'app:x:1001:\\nextra:x:2002:app\\nmore:x:2003:root,app\\n' >> /etc/group");
    expect((await sh("id; echo $HOME", { user: "app" })).out).toBe("uid=1001(app) gid=1001(app) groups=1001(app),2002(extra),2003(more)\n/home/app\n");
    expect((await sh("id", { user: "app:more", groupAdd: ["extra", "3000"] })).out).toBe("uid=1001(app) gid=2003(more) groups=2002(extra),2003(more),3000\n");
    expect((await sh("id -u; id -g; echo $HOME", { user: "4000" })).out).toBe("4000\n0\n/\n");
    const e = await failure(["id"], { user: "ghost" });
    expect(e).toBeInstanceOf(StartError);
    expect([e.message, (e as StartError).exitCode]).toEqual(["unable to find user ghost: no matching entries in passwd file", 127]);
  });

  test("a container's /etc/passwd that is a symlink out of its root resolves inside it, never on the host", async () => {
    const host = join(hostDir, "passwd");
    writeFileSync(host, "hostile:x:4242:4242::/:/bin/sh\n");
    for (const target of [host, `../../../../../../..${host}`]) {
      await sh(`cp /etc/passwd /etc/passwd.real; rm /etc/passwd; ln -s ${target} /etc/passwd`);
      try {
        const e = await failure(["id"], { user: "hostile" });
        expect(e.message).toBe("unable to find user hostile: no matching entries in passwd file");
      } finally {
        await sh("mv /etc/passwd.real /etc/passwd");
      }
    }
  });

  test("a FIFO as /etc/group neither blocks the daemon nor counts", async () => {
    await sh("mv /etc/group /etc/group.real; mkfifo /etc/group");
    try {
      // (the command itself must not read it: grep the kernel's view of its groups)
      expect((await sh("grep ^Groups: /proc/self/status | tr '\\t' ' '", { user: "nobody" })).out).toBe("Groups: 65534 \n");
    } finally {
      await sh("rm /etc/group; mv /etc/group.real /etc/group");
    }
  });

  test("only fds 0-2 (pipes); stdin; working directory made if missing (as Docker), environment, HOME, umask", async () => {
    const e = await native(["sh", "-c", "exec cat; pwd"], { cwd: "/new/dir", env: ["PATH=/bin", "X=1"] });
    // What it was given, seen from here while it waits for its stdin (the shell makes no fds of its own).
    await until("cat waiting", () => readlinkSync(`/proc/${e.pid}/exe`).endsWith("busybox") && /cat/.test(readFileSync(`/proc/${e.pid}/cmdline`, "utf8")));
    expect(readdirSync(`/proc/${e.pid}/fd`).sort()).toEqual(["0", "1", "2"]);
    e.stdin!.write("from stdin\n");
    expect((await outcome(e)).out).toBe("from stdin\n");
    const r = await sh("pwd; ls -ld /new/dir | cut -c1-10; echo $X $HOME; umask", { cwd: "/new/dir", env: ["PATH=/bin", "X=1"] });
    expect(r.out).toBe("/new/dir\ndrwxr-xr-x\n1 /root\n0022\n");
  });

  test("stdin: a megabyte reaches a slow reader whole; one that stops reading just loses the rest", async () => {
    const mb = Buffer.alloc(1 << 20, 97);
    const slow = await native(["sh", "-c", "sleep 0.2; wc -c"]);
    slow.stdin!.write(mb);
    expect((await outcome(slow)).out.trim()).toBe(String(1 << 20));
    const quitter = await native(["head", "-c", "3"]);
    quitter.stdin!.write(mb);
    quitter.stdin!.write(mb);
    const r = await outcome(quitter);
    expect([r.out, r.exit.exitCode]).toEqual(["aaa", 0]);
  });

  test("not found, not executable, a directory: Docker's messages and codes; PATH searched in order", async () => {
    const cases: [string[], string, number][] = [
      [["nosuchcmd"], 'exec: "nosuchcmd": executable file not found in $PATH', 127],
      [["/nosuch"], 'exec: "/nosuch": stat /nosuch: no such file or directory', 127],
      [["/etc/passwd"], 'exec: "/etc/passwd": permission denied', 126],
      [["/tmp"], 'exec: "/tmp": permission denied', 126],
    ];
    for (const [args, message, code] of cases) {
      const e = await failure(args);
      expect([e.message, (e as StartError).exitCode]).toEqual([message, code]);
    }
    // A non-executable candidate first is skipped (remembered as EACCES only if nothing runs).
    await sh("mkdir -p /opt/a /opt/b; echo x > /opt/a/tool; printf '#!/bin/sh\\necho ran b\\n' > /opt/b/tool; chmod +x /opt/b/tool");
    expect((await outcome(await native(["tool"], { env: ["PATH=/opt/a:/opt/b:/bin"] }))).out).toBe("ran b\n");
    const denied = await failure(["tool"], { env: ["PATH=/opt/a:/bin"] });
    expect([denied.message, (denied as StartError).exitCode]).toEqual(['exec: "tool": permission denied', 126]);
  });

  test("native and `ctr init` execs see the same process (identity, privileges, namespaces, environment)", async () => {
    const script = "id; pwd; env | sort; grep -E '^(Cap|NoNewPrivs|Seccomp:)' /proc/self/status; for n in pid mnt net uts ipc cgroup; do readlink /proc/self/ns/$n; done; cat /proc/self/cgroup";
    const spec = execSpec(["sh", "-c", script], { user: "nobody", cwd: "/tmp", env: ["PATH=/bin", "A=b"] });
    const viaInit = await outcome(await driver.exec(id, pid1, spec));
    const viaNative = await outcome(await nativeExec(id, pid1, cgroups.procsFiles(id), spec, startError));
    expect(viaNative).toEqual(viaInit);
  });

  test("a remapped container: the exec joins its user namespace last, root inside = the mapped uid outside, as through `ctr init`", async () => {
    const map = [{ containerID: 0, hostID: 300000, size: 65536 }];
    const spec = sb.spec(["sleep", "1000"], { userns: { uidMap: map, gidMap: map } });
    const p = await driver.start(spec);
    try {
      const script = "read x; id; cat /proc/self/uid_map; grep -E '^(Cap|NoNewPrivs|Seccomp:)' /proc/self/status; readlink /proc/self/ns/user";
      const es = execSpec(["sh", "-c", script], { userns: true, user: "nobody" });
      const e = await nativeExec(spec.id, p.pid, cgroups.procsFiles(spec.id), es, startError);
      const hostUid = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${e.pid}/status`, "utf8"))![1];
      e.stdin!.write("go\n");
      const viaNative = await outcome(e);
      const init = driver.exec(spec.id, p.pid, { ...es, args: ["sh", "-c", script] });
      const viaInit = await init.then((x) => (x.stdin!.write("go\n"), outcome(x)));
      expect(hostUid).toBe(String(300000 + 65534));
      expect(viaNative.out).toContain("uid=65534(nobody)");
      expect(viaNative.out).toContain("0     300000      65536");
      expect(viaNative).toEqual(viaInit);
      // A terminal there too: the slave is opened as host root before the child enters the user namespace.
      const t = await nativeExec(spec.id, p.pid, cgroups.procsFiles(spec.id), { ...es, args: ["sh", "-c", "tty; id -u"], terminal: true }, startError);
      expect((await collect(t.stdout)).replaceAll("\r", "")).toMatch(/^\/dev\/pts\/\d+\n65534\n$/);
    } finally {
      p.kill(9);
      await p.exited;
      await driver.cleanup(spec.id);
    }
  });

  test("a terminal: the container's next pty, its size, a session of its own with it as controlling tty, input and resize; as through `ctr init`", async () => {
    const script = "tty; stty size; read x; echo got:$x; stty size";
    const es = execSpec(["sh", "-c", script], { terminal: true, consoleSize: { rows: 30, cols: 100 } });
    const e = await native(es.args, es);
    expect(e.stderr).toBeNull();
    let text = "";
    e.stdout!.on("data", (d: Buffer) => (text += d.toString()));
    const ended = new Promise((ok) => e.stdout!.once("end", ok));
    await until("the first stty", () => text.includes("30 100"));
    // It leads a session of its own, with the pty as its controlling terminal (setsid + TIOCSCTTY in the child).
    const [session, ttyNr] = readFileSync(`/proc/${e.pid}/stat`, "utf8").split(") ")[1]!.split(" ").slice(3, 5).map(Number);
    expect(session).toBe(e.pid);
    expect(ttyNr).toBeGreaterThan(0);
    e.resize!(40, 120);
    e.stdin!.write("hi\n");
    const [exit] = await Promise.all([e.exited, ended]);
    const lines = text.replaceAll("\r", "").split("\n").filter(Boolean);
    expect(lines[0]).toMatch(/^\/dev\/pts\/\d+$/);
    expect(lines.slice(1)).toEqual(["30 100", "hi", "got:hi", "40 120"]);
    expect(exit.exitCode).toBe(0);
    const viaInit = await driver.exec(id, pid1, { ...es, args: ["sh", "-c", "tty; stty size"] });
    const initLines = (await collect(viaInit.stdout)).replaceAll("\r", "").split("\n").filter(Boolean);
    expect(initLines[0]).toMatch(/^\/dev\/pts\/\d+$/);
    expect(initLines.slice(1)).toEqual(["30 100"]);
  });

  test("an exec into a container whose pid 1 has ended is a conflict", async () => {
    const spec = sb.spec(["true"]);
    const p = await driver.start(spec);
    await p.exited;
    try {
      const e = await nativeExec(spec.id, p.pid, cgroups.procsFiles(spec.id), execSpec(["true"]), startError).catch((err: unknown) => err);
      expect(e).toBeInstanceOf(ConflictError);
    } finally {
      await driver.cleanup(spec.id);
    }
  });

  test("a child held before its execve (its cgroup frozen) holds up that exec only, not the event loop", async () => {
    await driver.pause(id);
    let started: RunningProcess | null = null;
    try {
      const pending = native(["echo", "thawed"]).then((e) => (started = e));
      // Were the loop's thread the one waiting for the child, these timers could not fire.
      for (let i = 0; i < 5; i++) await Bun.sleep(10);
      expect(started).toBeNull();
      await driver.resume(id);
      expect((await outcome(await pending)).out).toBe("thawed\n");
    } finally {
      await driver.resume(id).catch(() => {});
    }
  });

  test("the daemon keeps no descriptor of an exec once it has ended", async () => {
    const fds = () => readdirSync("/proc/self/fd").length;
    await sh("true"); // the first one loads what stays (the helper, the pid namespace handle)
    const before = fds();
    for (let i = 0; i < 20; i++) await sh("echo x; echo y >&2");
    await failure(["nosuchcmd"]);
    // The last ones close as their streams end, a turn or two after the outcome: wait (a leak never gets there).
    await until(`fds back to ${before} (now ${fds()})`, () => fds() <= before).catch(() => {});
    expect(fds()).toBeLessThanOrEqual(before);
  });

  test("many at once: every exit and all output arrive", async () => {
    const runs = await Promise.all(Array.from({ length: 40 }, async (_, i) => outcome(await native(["sh", "-c", `echo ${i}; exit ${i % 7}`]))));
    expect(runs.map((r) => [r.out, r.exit.exitCode])).toEqual(Array.from({ length: 40 }, (_, i) => [`${i}\n`, i % 7]));
  });
});
