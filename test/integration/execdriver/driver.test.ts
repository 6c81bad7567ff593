// The exec driver against the real kernel: a busybox rootfs (overlay over a
// temp dir), real namespaces, cgroups of this host (v1 here; v2 where the host
// is pure v2). Needs root.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import { ExecDriver, StartError } from "../../../src/engine/execdriver/driver.ts";
import type { RunningProcess } from "../../../src/engine/execdriver/types.ts";
import { allCapsMask, capMask, DOCKER_DEFAULT_CAPS } from "../../../src/kernel/capabilities.ts";
import { ALL_CAPS } from "../../../src/engine/containers/spec.ts";
import { newCgroupManager } from "../../../src/kernel/cgroups/index.ts";
import { collect, outcome, Sandbox, skipReason } from "./env.ts";

if (skipReason) console.warn(`skipping exec driver integration tests: ${skipReason}`);

const hex = (m: bigint) => m.toString(16).padStart(16, "0");

async function until<T>(what: string, fn: () => T | null | undefined | false, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(10);
  }
}

describe.skipIf(!!skipReason)("exec driver (root)", () => {
  const sb = skipReason ? null! : new Sandbox();
  const cgroups = newCgroupManager();
  const driver = new ExecDriver({ cgroups });
  const live = new Set<{ id: string; p: RunningProcess }>();

  afterAll(async () => {
    for (const { id, p } of live) {
      p.kill(9);
      await p.exited.catch(() => {});
      await driver.cleanup(id).catch(() => {});
    }
    sb?.cleanup();
  });

  /** Runs a command to completion; always removes its cgroup. */
  async function run(args: string[], over: Parameters<Sandbox["spec"]>[1] = {}, stdin?: string) {
    const spec = sb.spec(args, over);
    const p = await driver.start(spec);
    const entry = { id: spec.id, p };
    live.add(entry);
    try {
      if (stdin !== undefined) p.stdin?.write(stdin);
      const r = await outcome(p);
      return { ...r, spec };
    } finally {
      await driver.cleanup(spec.id);
      live.delete(entry);
    }
  }

  /** Starts a long-running container; cleaned up in afterAll. */
  async function background(args: string[], over: Parameters<Sandbox["spec"]>[1] = {}) {
    const spec = sb.spec(args, over);
    const p = await driver.start(spec);
    live.add({ id: spec.id, p });
    return { spec, p };
  }

  test("pid 1 is the command, hostname is set, exit code comes back", async () => {
    const r = await run(["sh", "-c", "echo $$; hostname; exit 3"]);
    expect(r.out).toBe("1\nbox\n");
    expect(r.exit).toEqual({ exitCode: 3, signal: null, oomKilled: false });
  });

  test("no host processes are visible", async () => {
    const r = await run(["sh", "-c", "ls /proc | grep -E '^[0-9]+$' | sort -n | tr '\\n' ' '"]);
    // sh is pid 1 and its pipeline (ls, grep, sort, tr) the only others (their
    // numbers skip those the init's threads used before execve).
    const pids = r.out.trim().split(" ").map(Number);
    expect(pids[0]).toBe(1);
    expect(pids.length).toBeLessThanOrEqual(5);
  });

  test("the root in /proc/self/mountinfo is the overlay, and nothing leaks to the host", async () => {
    const r = await run(["cat", "/proc/self/mountinfo"]);
    const rootLine = r.out.split("\n").find((l) => l.split(" ")[4] === "/");
    expect(rootLine).toContain(" - overlay ");
    expect(readFileSync("/proc/self/mountinfo", "utf8")).not.toContain(r.spec.rootfsPath);
    expect(cgroups.exists(r.spec.id)).toBe(false);
  });

  test("writes land in the container's layer, not in the image", async () => {
    const r = await run(["sh", "-c", "echo x > /written && cat /written"]);
    expect(r.out).toBe("x\n");
    expect(existsSync(join(sb.image, "written"))).toBe(false);
  });

  test("masked paths read empty, read-only paths refuse writes", async () => {
    const r = await run(["sh", "-c", "wc -c < /proc/keys; ls /sys/firmware | wc -l; echo h > /proc/sysrq-trigger || echo refused"]);
    expect(r.out.split("\n").slice(0, 3)).toEqual(["0", "0", "refused"]);
  });

  test("capabilities equal Docker's default set; no_new_privs is on", async () => {
    const r = await run(["grep", "-E", "^(CapEff|CapBnd|CapInh|NoNewPrivs)", "/proc/self/status"]);
    const want = hex(capMask(DOCKER_DEFAULT_CAPS));
    expect(r.out).toContain("CapInh:\t0000000000000000");
    expect(r.out).toContain(`CapEff:\t${want}`);
    expect(r.out).toContain(`CapBnd:\t${want}`);
    expect(r.out).toContain("NoNewPrivs:\t1");
  });

  test("-u nobody runs as 65534 without effective capabilities", async () => {
    const r = await run([], { process: { args: ["sh", "-c", "id -u; id -g; grep CapEff /proc/self/status"], env: ["PATH=/bin"], cwd: "/", user: "nobody", terminal: false } });
    expect(r.out).toBe("65534\n65534\nCapEff:\t0000000000000000\n");
  });

  test("numeric uid:gid works without passwd entries", async () => {
    const r = await run([], { process: { args: ["sh", "-c", "id -u; id -g"], env: ["PATH=/bin"], cwd: "/", user: "1234:567", terminal: false } });
    expect(r.out).toBe("1234\n567\n");
  });

  test("stdin round-trips", async () => {
    const r = await run(["cat"], {}, "hello\nworld\n");
    expect(r.out).toBe("hello\nworld\n");
  });

  test("stdout and stderr stay separate", async () => {
    const r = await run(["sh", "-c", "echo out; echo err >&2"]);
    expect([r.out, r.err]).toEqual(["out\n", "err\n"]);
  });

  test("a missing command fails the start with Docker's message and 127", async () => {
    const spec = sb.spec(["nope"]);
    const err = await driver.start(spec).catch((e) => e);
    expect(err).toBeInstanceOf(StartError);
    expect((err as StartError).message).toBe('exec: "nope": executable file not found in $PATH');
    expect((err as StartError).exitCode).toBe(127);
    expect(cgroups.exists(spec.id)).toBe(false);
  });

  test("killed by a signal → 128+n", async () => {
    const { p } = await background(["sleep", "100"]);
    p.kill("SIGKILL");
    expect(await p.exited).toEqual({ exitCode: 137, signal: 9, oomKilled: false });
  });

  test("read-only rootfs refuses writes", async () => {
    const r = await run(["sh", "-c", "touch /x 2>/dev/null && echo wrote || echo ro"], { readonlyRootfs: true });
    expect(r.out).toBe("ro\n");
  });

  test("memory limit: a hog is OOM-killed → 137 and oomKilled", async () => {
    const mb = 32 * 1024 * 1024;
    const r = await run(["sh", "-c", "x=aaaaaaaaaaaaaaaa; while true; do x=$x$x; done"], { cgroup: { memory: mb, memorySwap: mb } });
    expect(r.exit).toEqual({ exitCode: 137, signal: 9, oomKilled: true });
  });

  test("pids limit stops a fork bomb", async () => {
    const r = await run(["sh", "-c", "i=0; while [ $i -lt 30 ]; do sleep 30 & i=$((i+1)); done; cat /sys/fs/cgroup/pids/pids.current 2>/dev/null; exit 0"], { cgroup: { pidsLimit: 10 } });
    expect(r.err).toMatch(/fork|Resource temporarily unavailable/);
  });

  test("exec joins the same namespaces and cgroup", async () => {
    const { spec, p } = await background(["sleep", "100"]);
    const e = await driver.exec(spec.id, p.pid, { args: ["sh", "-c", "hostname; for n in pid mnt net uts ipc; do readlink /proc/self/ns/$n; done"], env: ["PATH=/bin"], cwd: "/", user: "", terminal: false, capabilities: [...DOCKER_DEFAULT_CAPS], noNewPrivileges: true });
    const r = await outcome(e);
    const host = ["pid", "mnt", "net", "uts", "ipc"].map((n) => readlinkSync(`/proc/${p.pid}/ns/${n}`));
    expect(r.out).toBe(["box", ...host, ""].join("\n"));
    expect(r.exit.exitCode).toBe(0);
    expect(driver.pids(spec.id)).toContain(p.pid);
    expect(driver.processes(spec.id).Processes.some((row) => row[7] === "sleep 100")).toBe(true);
  });

  test("a terminal gives a tty inside the container: /dev/pts/0", async () => {
    const spec = sb.spec(["tty"], { process: { args: ["tty"], env: ["PATH=/bin"], cwd: "/", user: "", terminal: true, consoleSize: { rows: 30, cols: 100 } } });
    const p = await driver.start(spec);
    try {
      expect(p.stderr).toBeNull();
      const [out, exit] = await Promise.all([collect(p.stdout), p.exited]);
      expect(out.trim()).toBe("/dev/pts/0");
      expect(exit.exitCode).toBe(0);
    } finally {
      await driver.cleanup(spec.id);
    }
  });

  test("terminal: window size and stdin through the pty", async () => {
    const spec = sb.spec([], { process: { args: ["sh", "-c", "stty size; read x; echo got:$x"], env: ["PATH=/bin"], cwd: "/", user: "", terminal: true, consoleSize: { rows: 30, cols: 100 } } });
    const p = await driver.start(spec);
    try {
      p.stdin!.write("hi\n");
      const [out] = await Promise.all([collect(p.stdout), p.exited]);
      expect(out).toContain("30 100");
      expect(out).toContain("got:hi");
    } finally {
      await driver.cleanup(spec.id);
    }
  });

  test("--init: a reaper is pid 1, forwards SIGTERM, reports 128+15", async () => {
    const { p } = await background(["sh", "-c", "echo $$; tr '\\0' ' ' < /proc/1/cmdline; echo; exec sleep 100"], { init: true });
    let out = "";
    p.stdout!.on("data", (d: Buffer) => (out += d.toString()));
    await until("the command's output", () => out.split("\n").length > 2);
    const [pid, init] = out.split("\n");
    expect(Number(pid)).toBeGreaterThan(1);
    expect(init).toContain(" init");
    p.kill("SIGTERM");
    expect((await p.exited).exitCode).toBe(143);
  });

  test("--init: the reaper's /proc/1/exe (the host binary) is out of the container's reach", async () => {
    const r = await run(["sh", "-c", "readlink /proc/1/exe || echo denied"], { init: true });
    expect(r.out).toBe("denied\n");
  });

  test("--init reaps orphaned zombies", async () => {
    const { spec } = await background(["sh", "-c", "sh -c 'true &'; exec sleep 100"], { init: true });
    const states = () => driver.pids(spec.id).map((pid) => { try { return readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]![0]; } catch { return "gone"; } });
    // pid 1 (reaper) + sleep; the orphaned `true` must not linger as Z.
    await until("no zombies in the container", () => states().length === 2 && !states().includes("Z"));
  });

  test("onNetns runs with the container's own netns before the command starts", async () => {
    let seen: { net: string; ran: boolean } | null = null;
    const spec = sb.spec(["sh", "-c", "echo ran > /marker"]);
    const p = await driver.start(spec, {
      onNetns: async (pid) => {
        seen = { net: readlinkSync(`/proc/${pid}/ns/net`), ran: existsSync(join(sb.dir, spec.id, "upper/marker")) };
      },
    });
    await outcome(p);
    await driver.cleanup(spec.id);
    expect(seen!.ran).toBe(false);
    expect(seen!.net).not.toBe(readlinkSync("/proc/self/ns/net"));
  });

  test("a failing onNetns aborts the start and removes the cgroup", async () => {
    const spec = sb.spec(["true"]);
    const err = await driver.start(spec, { onNetns: async () => { throw new Error("no network for you"); } }).catch((e) => e);
    expect((err as Error).message).toBe("no network for you");
    expect(cgroups.exists(spec.id)).toBe(false);
  });

  test("exec with a terminal gets the container's next pty", async () => {
    const { spec, p } = await background(["sleep", "100"]);
    const e = await driver.exec(spec.id, p.pid, { args: ["tty"], env: ["PATH=/bin"], cwd: "/", user: "", terminal: true, capabilities: [...DOCKER_DEFAULT_CAPS], noNewPrivileges: true });
    const [out, exit] = await Promise.all([collect(e.stdout), e.exited]);
    expect(out.trim()).toMatch(/^\/dev\/pts\/\d+$/);
    expect(exit.exitCode).toBe(0);
  });

  test("pause freezes and resume thaws", async () => {
    const { spec, p } = await background(["sleep", "100"]);
    await driver.pause(spec.id);
    await until("frozen state in /proc", () => /^State:\s+[DST]/m.test(readFileSync(`/proc/${p.pid}/status`, "utf8")));
    await driver.resume(spec.id);
    p.kill(9);
    expect((await p.exited).exitCode).toBe(137);
  });

  test("--privileged: every capability, host devices, nothing masked", async () => {
    const r = await run(["sh", "-c", "grep CapEff /proc/self/status; ls /dev | wc -l; wc -c < /proc/timer_list"], { privileged: true, capabilities: [...ALL_CAPS] });
    const [capEff, devs, timerList] = r.out.trim().split("\n");
    // All of them — that the daemon itself has (this sandbox may lack some).
    const mine = BigInt(`0x${/^CapPrm:\s+(\w+)/m.exec(readFileSync("/proc/self/status", "utf8"))![1]}`);
    expect(capEff).toBe(`CapEff:\t${hex(allCapsMask() & mine)}`);
    expect(Number(devs)).toBeGreaterThan(15);
    expect(Number(timerList)).toBeGreaterThan(0);
  });

  test("--cpus sets the CFS quota (cgroup v1 file on this host)", async () => {
    const { spec } = await background(["sleep", "100"], { cgroup: { cpuQuota: 50_000, cpuPeriod: 100_000 } });
    const v1 = `/sys/fs/cgroup/cpu/ctr/${spec.id}/cpu.cfs_quota_us`;
    const v2 = `/sys/fs/cgroup/ctr/${spec.id}/cpu.max`;
    const got = existsSync(v1) ? readFileSync(v1, "utf8").trim() : readFileSync(v2, "utf8").trim();
    expect(["50000", "50000 100000"]).toContain(got);
    expect(driver.leftovers()).toContain(spec.id);
  });

  test("stats read the cgroup", async () => {
    const { spec } = await background(["sleep", "100"], { cgroup: { memory: 64 * 1024 * 1024, pidsLimit: 50 } });
    const s = driver.stats(spec.id);
    expect(s.memoryLimit).toBe(64 * 1024 * 1024);
    expect(s.pids).toBe(1);
    expect(s.pidsLimit).toBe(50);
    expect(s.memoryUsage).toBeGreaterThan(0);
  });

  test("timing: start → exit of `true` (printed, not asserted)", async () => {
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      const r = await run(["true"]);
      times.push(performance.now() - t0);
      expect(r.exit.exitCode).toBe(0);
    }
    times.sort((a, b) => a - b);
    console.log(`exec driver start→exit of true: median ${times[2]!.toFixed(1)} ms (min ${times[0]!.toFixed(1)}, max ${times[4]!.toFixed(1)}; includes cgroup create/remove)`);
  });
});
