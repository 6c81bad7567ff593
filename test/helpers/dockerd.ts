// Debian's dockerd (docker.io, 20.10) started by a test on its own socket, data
// root, exec root and bridge — never the host's default — so a scenario can run
// against dockerd and against ctr and the answers be compared (differential tests).
import { chmodSync, closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ApiClient } from "../../src/client/client.ts";
import { ended, endProcess, isRoot, mountsUnder, run, startDaemon, until, type RunResult, type TestDaemon } from "./daemon.ts";
import { seedBusybox, startRegistry, type RunningRegistry } from "./registry.ts";

export const DOCKERD_BIN = "/usr/sbin/dockerd";
export const haveDockerd = existsSync(DOCKERD_BIN);
/** Why a differential suite cannot run here, or undefined when it can. */
export const dockerdSkipReason: string | undefined = !isRoot
  ? "needs root to start dockerd"
  : !haveDockerd
    ? "needs Debian's docker.io (dockerd) — scripts/setup-debian.sh installs it"
    : undefined;

export interface TestDockerd {
  dir: string;
  sock: string;
  host: string;
  client: ApiClient;
  /** The bridge device this dockerd uses as its default `bridge` network. */
  bridge: string;
  log(): string;
  /** Stops dockerd (SIGTERM, containers left as they are) and starts it again on the same data root. */
  restart(): Promise<void>;
  /** Runs the docker CLI (28.x from PATH unless `bin` is given) against this dockerd. */
  docker(args: string[], opts?: { stdin?: string | Uint8Array; bin?: string; env?: Record<string, string> }): Promise<RunResult>;
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export interface DockerdOptions {
  /** Let dockerd manage iptables (FORWARD policy DROP, DOCKER-USER…), as on a box with Docker installed. */
  iptables?: boolean;
  /** Run it in this network namespace (`ip netns add` by the caller): its bridge and firewall rules stay in there. */
  netns?: string;
  extra?: string[];
}

let seq = 0;

/**
 * A command prefix running the rest in `netns` (made by `ip netns add`), in a
 * mount namespace of its own where /sys is that netns' sysfs (so
 * /sys/class/net shows its devices) with the host's cgroup hierarchies bound
 * back under it (`ip netns exec` alone would hide them).
 */
export function inNetns(netns: string): string[] {
  const setup = 'd=$(mktemp -d) && mount --rbind /sys/fs/cgroup "$d" && mount -t sysfs sysfs /sys && mount --rbind "$d" /sys/fs/cgroup && umount -l "$d" && rmdir "$d" && exec "$@"';
  return ["unshare", "--mount", "--propagation", "slave", "nsenter", `--net=/run/netns/${netns}`, "sh", "-c", setup, "in-netns"];
}

/**
 * Starts dockerd with everything of its own under a temp dir. Its resolver is
 * 127.0.0.1 (network rule: no external DNS). The bridge is made here and
 * removed on dispose; without `iptables` dockerd touches no firewall rule.
 */
export async function startDockerd(opts: DockerdOptions = {}): Promise<TestDockerd> {
  const dir = mkdtempSync(join(tmpdir(), "ctr-dockerd-"));
  // o+x: with --userns-remap dockerd refuses a data root the remapped root cannot traverse.
  chmodSync(dir, 0o711);
  const sock = join(dir, "docker.sock");
  const host = `unix://${sock}`;
  const logPath = join(dir, "dockerd.log");
  const n = (process.pid + seq++) % 200;
  const bridge = `dkt${process.pid % 1000}x${seq}`.slice(0, 15);
  const subnet = `10.${(n % 50) + 200}.${(process.pid >> 3) % 250}.1/24`;
  const ipn = opts.netns ? ["ip", "-n", opts.netns] : ["ip"];
  Bun.spawnSync([...ipn, "link", "add", bridge, "type", "bridge"]);
  Bun.spawnSync([...ipn, "addr", "add", subnet, "dev", bridge]);
  Bun.spawnSync([...ipn, "link", "set", bridge, "up"]);
  const client = new ApiClient(host);
  const log = () => (existsSync(logPath) ? readFileSync(logPath, "utf8") : "");
  const spawn = async () => {
    // Appended: a restarted dockerd's log follows its predecessor's.
    const logFd = openSync(logPath, "a");
    const p = Bun.spawn(
      [
        ...(opts.netns ? inNetns(opts.netns) : []),
        DOCKERD_BIN,
        "--host", host,
        "--data-root", join(dir, "data"),
        "--exec-root", join(dir, "exec"),
        "--pidfile", join(dir, "dockerd.pid"),
        "-b", bridge,
        "--dns", "127.0.0.1",
        ...(opts.iptables ? [] : ["--iptables=false", "--ip-masq=false"]),
        ...(opts.extra ?? []),
      ],
      { stdout: logFd, stderr: logFd, stdin: "ignore" },
    );
    closeSync(logFd);
    try {
      await until(async () => (await client.ping().catch(() => false)) || ended(p), "dockerd to answer", 30_000);
      if (ended(p)) throw new Error(`dockerd exited ${p.exitCode ?? p.signalCode}`);
    } catch (e) {
      // A refused or hung start leaves nothing behind either: dockerd itself, its bridge, mounts and dir.
      const why = log();
      const gone = await endProcess(p, 15_000);
      Bun.spawnSync([...ipn, "link", "del", bridge], { stderr: "ignore" });
      for (const m of mountsUnder(dir)) Bun.spawnSync(["umount", "-l", m], { stderr: "ignore" });
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`${(e as Error).message}${gone ? "" : `; pid ${p.pid} did not end after SIGKILL`}; its log ends:\n${why.split("\n").slice(-30).join("\n")}`);
    }
    return p;
  };
  const terminate = async () => {
    if (!(await endProcess(proc, 15_000))) console.warn(`test dockerd pid ${proc.pid} did not end after SIGKILL`);
  };
  let proc = await spawn();
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    // Containers first, so their mounts and shims go before dockerd does.
    const ids = (await run(["docker", "-H", host, "ps", "-aq"])).stdout.split("\n").filter(Boolean);
    if (ids.length) await run(["docker", "-H", host, "rm", "-f", "-v", ...ids]);
    // A user network's bridge (br-<id12>) outlives dockerd; left behind they use up the address pools
    // that every later daemon on the host (ours included) picks subnets from.
    const nets = (await run(["docker", "-H", host, "network", "ls", "-q", "--no-trunc", "--filter", "driver=bridge"])).stdout;
    const bridges = nets.split("\n").filter(Boolean).map((id) => `br-${id.slice(0, 12)}`);
    await terminate();
    for (const b of bridges) Bun.spawnSync(["ip", "link", "del", b], { stderr: "ignore" });
  };
  return {
    dir,
    sock,
    host,
    client,
    bridge,
    log,
    restart: async () => {
      await terminate();
      proc = await spawn();
    },
    docker: (args, o = {}) => run([o.bin ?? "docker", "-H", host, ...args], { stdin: o.stdin, env: o.env }),
    stop,
    [Symbol.asyncDispose]: async () => {
      await stop();
      Bun.spawnSync([...ipn, "link", "del", bridge], { stderr: "ignore" });
      // Mounts dockerd may have left (overlay, shm, netns) are under dir: detach before removing.
      for (const m of mountsUnder(dir)) Bun.spawnSync(["umount", "-l", m], { stderr: "ignore" });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A differential suite's peers: a registry seeded with busybox, a ctr daemon and a dockerd. */
export interface Peers {
  reg: RunningRegistry;
  /** The seeded busybox reference on `reg`. */
  bb: string;
  ctr: TestDaemon;
  dkr: TestDockerd;
}

export async function startPeers(dockerd: DockerdOptions = {}): Promise<Peers> {
  const reg = await startRegistry();
  let ctr: TestDaemon | undefined;
  let dkr: TestDockerd | undefined;
  try {
    const bb = await seedBusybox(reg.host);
    const started = await Promise.allSettled([startDaemon(), startDockerd(dockerd)]);
    [ctr, dkr] = started.map((r) => (r.status === "fulfilled" ? r.value : undefined)) as [TestDaemon | undefined, TestDockerd | undefined];
    for (const r of started) if (r.status === "rejected") throw r.reason;
    return { reg, bb, ctr: ctr!, dkr: dkr! };
  } catch (e) {
    // The peer that did start and the registry go too: a failed start leaves the caller nothing to stop.
    await stopPeers({ reg, ctr, dkr });
    throw e;
  }
}

/** Stops both daemons (in parallel), then the registry; parts a failed start never made are skipped. */
export async function stopPeers(p: Partial<Peers>): Promise<void> {
  await Promise.all([p.ctr?.[Symbol.asyncDispose](), p.dkr?.[Symbol.asyncDispose]()]);
  await p.reg?.stop();
}
