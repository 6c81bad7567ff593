// --live-restore end to end: containers outlive the daemon (SIGTERM, kill -9)
// and a daemon from a copy of the binary at another path (an in-place
// upgrade) takes them back; without the flag, shutdown stops them as dockerd.
// Traffic goes only to 127.0.0.1 and to our containers.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DIST, isRoot, pidAlive, removeAllContainers, run, startDaemon, until, type TestDaemon } from "../../helpers/daemon.ts";
import { haveRegistry, seedBusybox, startRegistry, type RunningRegistry } from "../../helpers/registry.ts";
import { tableForBridge } from "../../../src/engine/network/nft.ts";

setDefaultTimeout(120_000);

const ready = isRoot && haveRegistry && existsSync(DIST);
if (!isRoot) console.warn("skip: live restore needs root");
else if (!haveRegistry) console.warn("skip: docker-registry is not installed");
else if (!existsSync(DIST)) console.warn("skip: live restore runs dist/ctr (bun run build first)");

/** How long a condition may take on a loaded box before the test gives up (a deadline, not a timing). */
const DEADLINE = 30_000;
const HTTPD = "mkdir -p /www && echo hello-from-$(hostname) > /www/index.html && exec httpd -f -p 80 -h /www";
const COUNTER = "i=0; while :; do i=$((i+1)); echo $i; sleep 0.05; done";
/** Exits 7 once the test drops /x/go: the exit happens while no daemon runs, without a timing in the test. */
const SEVEN = "while [ ! -e /x/go ]; do sleep 0.05; done; exit 7";
/** Fails (3) on /x/again, once: on-failure brings it back, and then it waits again. */
const AGAIN = "while [ ! -e /x/again ]; do sleep 0.05; done; rm /x/again; exit 3";

const ppidOf = (pid: number) => {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
};
/** Whether a process has a handler for a signal (SigCgt of /proc/<pid>/status). */
const catches = (pid: number, signal: number) => {
  const hex = /^SigCgt:\s*([0-9a-f]+)$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? "0";
  return ((BigInt(`0x${hex}`) >> BigInt(signal - 1)) & 1n) === 1n;
};
/** The keeper of an exec root: found by its command line (`… keeper.js <exec root>`, or `ctr keeper <exec root>`). */
function keeperOf(execRoot: string): number | null {
  for (const p of readdirSync("/proc")) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const argv = readFileSync(`/proc/${p}/cmdline`, "utf8").split("\0");
      if ((argv.at(-3) === "keeper" || argv.at(-3)?.endsWith("/keeper.js")) && argv.at(-2) === execRoot) return Number(p);
    } catch {}
  }
  return null;
}

describe.skipIf(!ready)("live restore (root)", () => {
  let reg: RunningRegistry;
  let bb: string;
  let d: TestDaemon;
  let dir = "";
  const shared = mkdtempSync(join(tmpdir(), "ctr-lr-x-"));
  const binDir = mkdtempSync(join(tmpdir(), "ctr-lr-bin-"));
  const tag = String(process.pid % 100000);
  const net = `lr-${tag}`;
  const ctr = (args: string[]) => d.ctr(args);
  const state = async (name: string) => JSON.parse((await ctr(["inspect", "-f", "{{json .State}}", name])).stdout) as Record<string, unknown>;
  const idOf = async (name: string) => (await ctr(["inspect", "-f", "{{.Id}}", name])).stdout.trim();
  // Addresses of its own (default bridge and user network): other checkouts' daemons on this host take from the same pools.
  const octet = 200 + (process.pid % 50);
  const start = (bin = DIST) => startDaemon(["--live-restore", "--bip", `10.${octet}.${(process.pid + 1) % 250}.1/24`], dir ? { dir } : undefined, { bin });
  const ids: Record<string, string> = {};
  const before: Record<string, { Pid: number; StartedAt: string }> = {};
  let port = 0;
  let keeper = 0;

  const logLines = (name: string) => {
    const id = ids[name]!;
    const f = join(d.root, "containers", id, `${id}-json.log`);
    return existsSync(f) ? readFileSync(f, "utf8").split("\n").filter(Boolean).length : 0;
  };
  const web = async () => {
    try {
      return await (await fetch(`http://127.0.0.1:${port}/`)).text();
    } catch {
      return "";
    }
  };
  /**
   * The embedded DNS of the user network: `web`'s address, asked from another container. (DNS only: traffic
   * between containers is the network suite's; on a host whose FORWARD policy drops, it is not this test's.)
   */
  const byName = async () => {
    const nets = JSON.parse((await ctr(["inspect", "-f", "{{json .NetworkSettings.Networks}}", "web"])).stdout) as Record<string, { IPAddress: string }>;
    const ip = nets[net]?.IPAddress ?? "";
    const out = (await ctr(["exec", "client", "nslookup", "web"])).stdout;
    return ip !== "" && new RegExp(`^Address: ${ip.replace(/\./g, "\\.")}$`, "m").test(out);
  };

  /** The counter's output, in the log and through the API, is 1..n without a gap. */
  async function expectNoGap(min: number): Promise<void> {
    const out = (await ctr(["logs", "cnt"])).stdout.split("\n").filter(Boolean).map(Number);
    expect(out.length).toBeGreaterThan(min);
    expect(out.findIndex((v, i) => v !== i + 1)).toBe(-1);
  }

  /** While no daemon runs: every container runs on, untouched, and its output is kept. */
  async function expectUntouched(): Promise<void> {
    for (const n of ["cnt", "web", "client"]) expect(pidAlive(before[n]!.Pid)).toBe(true);
    expect(pidAlive(keeper)).toBe(true);
    expect(await web()).toMatch(/^hello-from-/);
    const lines = logLines("cnt");
    await until(() => logLines("cnt") > lines + 3, "the counter's log to grow while no daemon runs", DEADLINE);
  }

  /** After a restart: same pids and start times, everything answers again. */
  async function expectTakenBack(): Promise<void> {
    for (const n of ["cnt", "web", "client"]) {
      const s = await state(n);
      expect({ n, Status: s.Status, Pid: s.Pid, StartedAt: s.StartedAt }).toEqual({ n, Status: "running", ...before[n]! });
    }
    expect((await ctr(["ps", "-q"])).stdout.split("\n")).toEqual(expect.arrayContaining([ids.cnt!.slice(0, 12), ids.web!.slice(0, 12), ids.client!.slice(0, 12)]));
    expect(await web()).toMatch(/^hello-from-/);
    await until(byName, "the network's DNS to answer again", DEADLINE);
    expect((await ctr(["exec", "cnt", "echo", "hi"])).stdout).toBe("hi\n");
    await expectNoGap(20);
  }

  beforeAll(async () => {
    try {
      await setUp();
    } catch (e) {
      console.error(`live-restore set-up failed; daemon log:\n${d?.log() ?? ""}`);
      throw e;
    }
  }, 120_000);

  async function setUp(): Promise<void> {
    reg = await startRegistry();
    bb = await seedBusybox(reg.host);
    d = await start();
    dir = d.dir;
    expect((await ctr(["pull", "-q", bb])).code).toBe(0);
    expect((await ctr(["network", "create", "--subnet", `10.${octet}.${process.pid % 250}.0/24`, net])).code).toBe(0);
    const runs: [string, string[]][] = [
      ["cnt", [bb, "sh", "-c", COUNTER]],
      ["web", ["--network", net, "-p", "127.0.0.1::80", bb, "sh", "-c", HTTPD]],
      ["client", ["--network", net, bb, "sleep", "100000"]],
      ["seven", ["-v", `${shared}:/x`, bb, "sh", "-c", SEVEN]],
      ["again", ["-v", `${shared}:/x`, "--restart", "on-failure:5", bb, "sh", "-c", AGAIN]],
    ];
    for (const [name, args] of runs) {
      const r = await ctr(["run", "-d", "--name", name, ...args]);
      expect(r.stderr).toBe("");
      ids[name] = await idOf(name);
      const s = await state(name);
      before[name] = { Pid: s.Pid as number, StartedAt: s.StartedAt as string };
    }
    port = Number(/127\.0\.0\.1:(\d+)/.exec((await ctr(["port", "web"])).stdout)![1]);
    await until(async () => (await web()).startsWith("hello-from-"), "the published port to answer", DEADLINE);
    await until(byName, "the network's DNS to answer", DEADLINE);
    expect((await d.client.json<{ LiveRestoreEnabled: boolean }>("GET", "/info")).LiveRestoreEnabled).toBe(true);
    keeper = keeperOf(join(dir, "run"))!;
    expect(keeper).toBeGreaterThan(0);
    for (const n of ["cnt", "web", "client", "seven", "again"]) expect(ppidOf(before[n]!.Pid)).toBe(keeper);
  }

  afterAll(async () => {
    // Only through a daemon that runs (a stopped one's socket is not answered).
    if (d?.proc.exitCode === null) {
      await removeAllContainers(d);
      await d.ctr(["network", "rm", net]);
    }
    await d?.[Symbol.asyncDispose]();
    // A failed test may leave containers with the keeper: end them so nothing outlives the test.
    const k = keeper && keeperOf(join(dir, "run"));
    if (k) process.kill(k, 9);
    for (const b of Object.values(before)) if (pidAlive(b.Pid)) process.kill(b.Pid, 9);
    await reg?.stop();
    rmSync(shared, { recursive: true, force: true });
    rmSync(binDir, { recursive: true, force: true });
  }, 120_000);

  test("SIGTERM: containers run on; exits meanwhile are recorded with their code; a new daemon takes them back", async () => {
    await d.stop();
    await expectUntouched();
    writeFileSync(join(shared, "go"), "");
    writeFileSync(join(shared, "again"), "");
    await until(() => !pidAlive(before.seven!.Pid) && !pidAlive(before.again!.Pid), "seven and again to exit while no daemon runs", DEADLINE);
    d = await start();
    await expectTakenBack();
    const seven = await state("seven");
    expect({ Status: seven.Status, ExitCode: seven.ExitCode }).toEqual({ Status: "exited", ExitCode: 7 });
    // The restart policy resumes: `again` failed while no daemon ran and comes back.
    const again = await until(async () => {
      const s = await state("again");
      return s.Running && s.Pid !== before.again!.Pid ? s : null;
    }, "again to be restarted by its policy", DEADLINE);
    expect(again!.Status).toBe("running");
    expect((await ctr(["inspect", "-f", "{{.RestartCount}}", "again"])).stdout.trim()).toBe("1");
  });

  test("kill -9: the same", async () => {
    await d.kill9();
    await expectUntouched();
    d = await start();
    await expectTakenBack();
    // A restarted container ended after the restart: its code is recorded, and the policy starts it once more.
    const againPid = (await state("again")).Pid;
    writeFileSync(join(shared, "again"), "");
    await until(async () => {
      const s = await state("again");
      return s.Running && s.Pid !== againPid;
    }, "again to fail and be restarted by this daemon", DEADLINE);
    expect((await ctr(["inspect", "-f", "{{.RestartCount}}", "again"])).stdout.trim()).toBe("2");
  });

  test("in-place upgrade: a copy of the binary at another path takes the keeper and its containers over", async () => {
    const next = join(binDir, "ctr-next");
    copyFileSync(DIST, next);
    chmodSync(next, 0o755);
    await d.stop();
    d = await start(next);
    // The same keeper process, re-executed from the new binary; the containers are still its children.
    expect(keeperOf(join(dir, "run"))).toBe(keeper);
    expect(readlinkSync(`/proc/${keeper}/exe`)).toBe(next);
    for (const n of ["cnt", "web", "client"]) expect(ppidOf(before[n]!.Pid)).toBe(keeper);
    await expectTakenBack();
    // The new image starts containers too, and none inherits another container's pipes.
    expect((await ctr(["run", "-d", "--name", "late", bb, "sleep", "100000"])).code).toBe(0);
    const late = (await state("late")).Pid as number;
    expect(ppidOf(late)).toBe(keeper);
    expect(readdirSync(`/proc/${late}/fd`).sort()).toEqual(["0", "1", "2"]);
    expect((await ctr(["rm", "-f", "late"])).code).toBe(0);
  });

  test("taken-back containers: attach, stats, top, pause, kill, wait, stop", async () => {
    const attach = Bun.spawn([process.execPath, join(import.meta.dir, "../../../src/cli.ts"), "attach", "--no-stdin", "cnt"], { env: { ...process.env, CTR_HOST: d.host }, stdout: "pipe", stderr: "ignore" });
    const reader = attach.stdout.getReader();
    let seen = "";
    await until(async () => {
      const r = await reader.read();
      seen += new TextDecoder().decode(r.value ?? new Uint8Array());
      return seen.split("\n").filter(Boolean).length >= 3;
    }, "attach to show the counter", DEADLINE);
    attach.kill(9);
    expect(seen.split("\n").filter(Boolean).every((l) => /^\d+$/.test(l))).toBe(true);
    const stats = await d.client.json<{ pids_stats: { current: number }; memory_stats: { usage: number } }>("GET", `/containers/cnt/stats`, { query: { stream: "false" } });
    expect(stats.pids_stats.current).toBeGreaterThan(0);
    expect(stats.memory_stats.usage).toBeGreaterThan(0);
    expect((await ctr(["top", "cnt"])).stdout).toContain(COUNTER.slice(0, 10));
    expect((await ctr(["pause", "cnt"])).code).toBe(0);
    expect((await state("cnt")).Status).toBe("paused");
    expect((await ctr(["unpause", "cnt"])).code).toBe(0);
    expect((await state("cnt")).Status).toBe("running");
    // Registered before or after the kill, wait answers the recorded code.
    const wait = d.ctr(["wait", "web"]);
    expect((await ctr(["kill", "web"])).code).toBe(0);
    expect((await wait).stdout.trim()).toBe("137");
    expect((await state("web")).ExitCode).toBe(137);
    expect((await ctr(["stop", "-t", "1", "cnt"])).code).toBe(0);
    const cnt = await state("cnt");
    expect({ Status: cnt.Status, ExitCode: cnt.ExitCode }).toEqual({ Status: "exited", ExitCode: 137 });
    expect(pidAlive(before.cnt!.Pid)).toBe(false);
  });

  test("after removal nothing is left: mounts, cgroups, veths, rules, the keeper", async () => {
    await removeAllContainers(d);
    expect((await ctr(["network", "rm", net])).code).toBe(0);
    await d.stop();
    await until(() => !pidAlive(keeper), "the keeper to leave once it holds nothing and no daemon runs", DEADLINE);
    const mounts = readFileSync("/proc/self/mountinfo", "utf8");
    expect(mounts.split("\n").filter((l) => l.includes(dir))).toEqual([]);
    const cgroups = run(["sh", "-c", `find /sys/fs/cgroup -maxdepth 4 -type d \\( ${Object.values(ids).map((id) => `-name '*${id}*'`).join(" -o ")} \\)`]);
    expect((await cgroups).stdout).toBe("");
    const veths = (await run(["ip", "-o", "link", "show", "master", d.bridge])).stdout;
    expect(veths).toBe("");
    const rules = (await run(["nft", "list", "table", "ip", tableForBridge(d.bridge)])).stdout;
    expect(rules).not.toContain(`dport ${port}`);
    expect(existsSync(join(dir, "run", "keeper.sock"))).toBe(false);
    expect(readdirSync(join(dir, "run", "exits"))).toEqual([]);
  });
});

describe.skipIf(!ready)("without --live-restore (root)", () => {
  test("daemon SIGTERM stops containers with their stop signal, as dockerd; no keeper runs", async () => {
    const reg = await startRegistry();
    const d = await startDaemon([], undefined, { bin: DIST });
    try {
      const bb = await seedBusybox(reg.host);
      expect((await d.ctr(["pull", "-q", bb])).code).toBe(0);
      // pid 1 has no default action for SIGTERM: the trap's exit code proves the stop signal came first.
      expect((await d.ctr(["run", "-d", "--name", "trap", bb, "sh", "-c", "trap 'exit 3' TERM; while :; do sleep 0.05; done"])).code).toBe(0);
      const pid = JSON.parse((await d.ctr(["inspect", "-f", "{{json .State.Pid}}", "trap"])).stdout) as number;
      expect(keeperOf(join(d.dir, "run"))).toBeNull();
      expect(ppidOf(pid)).toBe(d.proc.pid);
      // The compiled daemon starts inits from the small bundle, its bytecode beside it (init-bundle.ts).
      expect(["init.js", "init.js.jsc"].filter((f) => existsSync(join(d.dir, "run", f)))).toEqual(["init.js", "init.js.jsc"]);
      expect(readFileSync(join(d.dir, "run", "init.js"), "utf8")).toStartWith("// @bun @bytecode @bun-cjs");
      // A pid-namespace init ignores a SIGTERM that comes before its trap is set: on a loaded box the stop could
      // come first, the daemon wait out the stop timeout and the test's SIGKILL of the daemon orphan the container.
      await until(() => catches(pid, 15), "the container's TERM trap to be set", DEADLINE);
      const dir = d.dir;
      await d.stop();
      expect(pidAlive(pid)).toBe(false);
      const d2 = await startDaemon([], { dir }, { bin: DIST });
      try {
        const s = JSON.parse((await d2.ctr(["inspect", "-f", "{{json .State}}", "trap"])).stdout);
        expect({ Status: s.Status, ExitCode: s.ExitCode }).toEqual({ Status: "exited", ExitCode: 3 });
        await removeAllContainers(d2);
      } finally {
        await d2[Symbol.asyncDispose]();
      }
    } finally {
      await d[Symbol.asyncDispose]();
      await reg.stop();
    }
  });
});
