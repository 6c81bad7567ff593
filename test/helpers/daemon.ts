import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { ApiClient } from "../../src/client/client.ts";
import { tableForBridge } from "../../src/engine/network/nft.ts";
import { syncForwardOpenings } from "../../src/engine/network/forward-openings.ts";

export const REPO = resolve(import.meta.dir, "../..");
export const CLI = join(REPO, "src/cli.ts");
export const DIST = join(REPO, "dist/ctr");

export const isRoot = process.getuid?.() === 0;

/** A process with this pid exists (a zombie too: see /proc/<pid>/stat for that). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export interface TestDaemon {
  dir: string;
  root: string;
  sock: string;
  host: string;
  client: ApiClient;
  proc: ReturnType<typeof Bun.spawn>;
  log(): string;
  /** Runs `ctr` (from source) against this daemon. */
  ctr(args: string[], opts?: { stdin?: string | Uint8Array; env?: Record<string, string> }): Promise<RunResult>;
  /** Runs the real docker CLI against this daemon. */
  docker(args: string[], opts?: { stdin?: string | Uint8Array }): Promise<RunResult>;
  /** The default bridge device of this daemon (unique per test daemon). */
  bridge: string;
  kill9(): Promise<void>;
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function run(
  cmd: string[],
  opts: { stdin?: string | Uint8Array; env?: Record<string, string>; cwd?: string } = {},
): Promise<RunResult> {
  const p = Bun.spawn(cmd, {
    stdin: opts.stdin === undefined ? "ignore" : new Blob([opts.stdin]),
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, ...opts.env },
    cwd: opts.cwd,
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(p.stdout).text(),
    new Response(p.stderr).text(),
    p.exited,
  ]);
  return { code, stdout, stderr };
}

/** Polls `cond` until it is truthy or the deadline passes. */
export async function until<T>(cond: () => T | Promise<T>, what: string, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await cond();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(20);
  }
}

/**
 * Starts `ctr daemon` on a temporary socket and root dir: from source, or the
 * compiled binary when `opts.bin` is given (the benchmark measures what ships).
 */
export async function startDaemon(
  extra: string[] = [],
  existing?: { dir: string },
  opts: { bin?: string; env?: Record<string, string>; appendLog?: boolean; /** How long it may take to answer (a hang is caught, with its state). */ answerMs?: number } = {},
): Promise<TestDaemon> {
  const dir = existing?.dir ?? mkdtempSync(join(tmpdir(), "ctr-test-"));
  const root = join(dir, "root");
  const sock = join(dir, "ctr.sock");
  const host = `unix://${sock}`;
  const logPath = join(dir, "daemon.log");
  // A bridge (and so an nft table) of its own, so test daemons running side by side never share one.
  const bridge = bridgeFlag(extra) ?? `ctrt${process.pid % 10000}${dir.slice(-4)}`.replace(/[^A-Za-z0-9]/g, "").slice(0, 15);
  // Each start writes the log afresh (tests read a restarted daemon's first line); with appendLog it is
  // appended, as the product's start paths do, so a predecessor's crash report survives the restart.
  const logFd = openSync(logPath, opts.appendLog ? "a" : "w");
  const proc = Bun.spawn(
    [...(opts.bin ? [opts.bin] : [process.execPath, CLI]), "daemon", "-H", host, "--root", root, "--exec-root", join(dir, "run"), "--bridge", bridge, ...extra.filter((a, i) => a !== "--bridge" && extra[i - 1] !== "--bridge")],
    { stdout: logFd, stderr: logFd, stdin: "ignore", env: { ...process.env, ...opts.env } },
  );
  closeSync(logFd);
  const client = new ApiClient(host);
  const log = () => (existsSync(logPath) ? readFileSync(logPath, "utf8") : "");
  try {
    // 30 s, as dockerd's: the two batch failures of session 5 were daemons that answered after 15.3 and
    // 18.6 s, the time gone before they made their root dir (Bun's start and the loading of the source,
    // on a box stalled right after the soak: the next file's first test was 5x slower too). A hang is
    // still caught, with the daemon's state in the message.
    await until(async () => (await client.ping()) || ended(proc), "daemon to answer", opts.answerMs ?? 30_000);
    if (ended(proc)) throw new Error(`daemon exited ${proc.exitCode ?? proc.signalCode}`);
  } catch (e) {
    // Nothing of a failed start stays behind: a daemon left running keeps its bridge, nft table and
    // cgroups (and a hung one its test dir) for the rest of the suite.
    const where = ended(proc) ? "" : ` (pid ${proc.pid} then: ${threadState(proc.pid)})`;
    const text = log();
    const gone = await endProcess(proc);
    cleanUp(dir, bridge, existing ? "keep dir" : "remove dir");
    const left = gone ? "" : `; pid ${proc.pid} did not end after SIGKILL (left running)`;
    throw new Error(`${(e as Error).message}${where}${left}; its log ends:\n${text.split("\n").slice(-30).join("\n")}`);
  }
  const env = { CTR_HOST: host };
  let stopped = false;
  const d: TestDaemon = {
    dir,
    root,
    bridge,
    sock,
    host,
    client,
    proc,
    log,
    ctr: (args, o = {}) => run([process.execPath, CLI, ...args], { stdin: o.stdin, env: { ...env, ...o.env } }),
    docker: (args, o = {}) => run(["docker", "-H", host, ...args], { stdin: o.stdin }),
    kill9: async () => {
      proc.kill(9);
      // Bounded: a task asleep in state D keeps its SIGKILL pending, and the test would hang to its timeout.
      if (!(await exitsWithin(proc, 5_000))) throw new Error(`test daemon pid ${proc.pid} did not end after SIGKILL (${threadState(proc.pid)})`);
    },
    stop: async () => {
      if (stopped) return;
      stopped = true;
      if (!(await endProcess(proc))) console.warn(`test daemon pid ${proc.pid} did not end after SIGKILL (${threadState(proc.pid)})`);
    },
    [Symbol.asyncDispose]: async () => {
      const userBridges = ended(proc) ? [] : await networkBridges(client);
      await d.stop();
      // User networks' bridges outlive the daemon (as dockerd's); left behind they use up the address pools.
      if (isRoot) for (const b of userBridges) Bun.spawnSync(["ip", "link", "del", b], { stderr: "ignore" });
      // Also a restarted daemon's ({ dir }): the last one disposed cleans up for all on that dir.
      cleanUp(dir, bridge, "remove dir");
    },
  };
  return d;
}

/**
 * What a test daemon leaves on the host: mounts under `dir` (shareable /dev/shm, netns pins of a
 * killed daemon), `dir` itself unless a caller's daemon goes on using it, and — the daemon keeps
 * them across restarts, like docker0 — its default bridge, nft table and openings in other firewalls.
 */
function cleanUp(dir: string, bridge: string, what: "remove dir" | "keep dir"): void {
  if (isRoot) for (const m of mountsUnder(dir)) Bun.spawnSync(["umount", "-l", m], { stderr: "ignore" });
  if (what === "remove dir") rmSync(dir, { recursive: true, force: true });
  if (!isRoot) return;
  Bun.spawnSync(["ip", "link", "del", bridge], { stderr: "ignore" });
  Bun.spawnSync(["nft", "delete", "table", "ip", tableForBridge(bridge)], { stderr: "ignore" });
  syncForwardOpenings({ table: tableForBridge(bridge) }, []);
}

type Proc = ReturnType<typeof Bun.spawn>;

/** Exited, or ended by a signal (Bun leaves exitCode null then). */
export const ended = (p: Proc) => p.exitCode !== null || p.signalCode !== null;

/**
 * Ends a process we spawned, by its pid: SIGTERM, SIGKILL after `termMs`; false when it is still
 * there `killMs` later (a task asleep in state D keeps its SIGKILL pending: waiting on would hang).
 */
export async function endProcess(p: Proc, termMs = 10_000, killMs = 5_000): Promise<boolean> {
  if (ended(p)) return true;
  p.kill("SIGTERM");
  if (await exitsWithin(p, termMs)) return true;
  p.kill("SIGKILL");
  return exitsWithin(p, killMs);
}

async function exitsWithin(p: Proc, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<false>((r) => (timer = setTimeout(() => r(false), ms)));
  const done = await Promise.race([p.exited.then(() => true as const), late]);
  clearTimeout(timer);
  return done;
}

/**
 * What a process that does not answer is doing: its main thread's state, kernel wait channel and
 * syscall, the CPU it has had (asleep or starved?), the states of all its threads, and the box's load.
 */
function threadState(pid: number): string {
  const read = (f: string) => {
    try {
      return readFileSync(`/proc/${pid}/${f}`, "utf8").trim();
    } catch {
      return "";
    }
  };
  const stat = read("stat").replace(/^.*\) /, "").split(" ");
  const ticks = Number(stat[11]) + Number(stat[12]); // utime + stime (fields 14, 15)
  const threads = (() => {
    try {
      return readdirSync(`/proc/${pid}/task`).map((t) => read(`task/${t}/stat`).replace(/^.*\) /, "")[0]).join("");
    } catch {
      return "";
    }
  })();
  const load = readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
  return `state ${stat[0] ?? "?"}, wchan ${read("wchan") || "-"}, syscall ${read("syscall").split(" ")[0] || "?"}, cpu ${ticks} ticks, threads ${threads}; load ${load}`;
}

/** Bridge devices of a running daemon's user networks (the default bridge is removed by name). */
async function networkBridges(client: ApiClient): Promise<string[]> {
  try {
    const res = await client.request("GET", "/networks");
    const nets = (await res.json()) as { Id: string; Driver: string; Name: string; Options?: Record<string, string> }[];
    return nets
      .filter((n) => n.Driver === "bridge" && n.Name !== "bridge")
      .map((n) => n.Options?.["com.docker.network.bridge.name"] ?? `br-${n.Id.slice(0, 12)}`);
  } catch {
    return [];
  }
}

function bridgeFlag(extra: string[]): string | undefined {
  const i = extra.indexOf("--bridge");
  return i >= 0 ? extra[i + 1] : undefined;
}

/** afterAll: removes every container of a test daemon, running or not. */
export async function removeAllContainers(d: TestDaemon | undefined): Promise<void> {
  const ids = (await d?.ctr(["ps", "-aq"]))?.stdout.split("\n").filter(Boolean) ?? [];
  if (ids.length) await d!.ctr(["rm", "-f", ...ids]);
}

export const hasDocker = Bun.which("docker") !== null;

/** Mount points below `dir`, deepest first. */
export function mountsUnder(dir: string): string[] {
  return readFileSync("/proc/self/mounts", "utf8")
    .split("\n")
    .map((l) => l.split(" ")[1] ?? "")
    .filter((m) => m.startsWith(`${dir}/`) || m === dir)
    .sort((a, b) => b.length - a.length);
}
