import type { Cli } from "./parser.ts";
import { existsSync } from "node:fs";
import { isIP } from "node:net";
import { defaultConfig, type DaemonConfig } from "../server/config.ts";
import { list } from "./context.ts";
import { log, setLogLevel } from "../log.ts";
import { reexecWithoutDFG } from "../jit-tiers.ts";

interface DaemonFlags {
  host?: string | string[];
  root?: string;
  execRoot?: string;
  storageDriver?: string;
  insecureRegistry?: string | string[];
  registryMirror?: string | string[];
  logLevel?: string;
  tlscert?: string;
  tlskey?: string;
  tlscacert?: string;
  tlsverify?: boolean;
  bip?: string;
  bridge?: string;
  firewall?: string;
  defaultAddressPool?: string;
  maxConcurrentDownloads?: number;
  seccompProfile?: string;
  usernsRemap?: string;
  /** The parser reads --no-new-privileges as the negation of --new-privileges. */
  newPrivileges?: boolean;
  defaultUlimit?: string | string[];
  group?: string;
  liveRestore?: boolean;
  cgroupParent?: string;
  execOpt?: string | string[];
  dns?: string | string[];
}

export function registerDaemon(cli: Cli): void {
  cli
    .command("daemon", "Run the ctr daemon (the API server that owns all state)")
    .option("--root <dir>", "Root of persistent state", { default: "/var/lib/ctr" })
    .option("--exec-root <dir>", "Root of run-time state", { default: "/run/ctr" })
    .option("--storage-driver <name>", "Storage driver: overlay2 or vfs (default: overlay2 where the kernel has it)")
    .option("--insecure-registry <host>", "Registry reachable over plain HTTP (repeatable)")
    .option("--registry-mirror <url>", "Mirror for docker.io (repeatable)")
    .option("--log-level <level>", "debug, info, warn, error, fatal", { default: "info" })
    .option("--tlscert <file>", "TLS certificate (required for tcp://)")
    .option("--tlskey <file>", "TLS key (required for tcp://)")
    .option("--tlscacert <file>", "CA to verify clients with --tlsverify")
    .option("--tlsverify", "Require client certificates")
    .option("--bip <cidr>", "Address and prefix of the default bridge")
    .option("-b, --bridge <name>", "Device name of the default bridge (default ctr0)")
    .option("--firewall <backend>", "nftables or iptables (default: nftables where nft exists)")
    .option("--default-address-pool <cidr>", "Pool that bridge subnets are taken from")
    .option("--dns <ip>", "DNS server for containers (repeatable): the default bridge's resolv.conf, and where user networks' resolver forwards")
    .option("--max-concurrent-downloads <n>", "Layers downloaded in parallel per pull", { default: 3 })
    .option("--seccomp-profile <path>", "Default seccomp profile for containers (a Docker profile JSON, or unconfined)")
    .option("--no-new-privileges", "Set no_new_privs for every new container")
    .option("--default-ulimit <name=soft[:hard]>", "Default ulimit for containers (repeatable)")
    .option("--userns-remap <user>", "User/Group setting for user namespaces (default | user[:group] | uid[:gid])")
    .option("-G, --group <group>", "Group owning the unix socket (default: ctr, where that group exists)")
    .option("--live-restore", "Keep containers running while the daemon is stopped or upgraded")
    .option("--cgroup-parent <name>", "Parent cgroup of every container (default ctr; docker gives dockerd's <controller>/docker/<id>)")
    .option("--exec-opt <key=value>", "Runtime option (repeatable): native.cgroupdriver=cgroupfs (the one driver; systemd is refused)")
    .action(async (flags: DaemonFlags) => {
      await reexecWithoutDFG((msg) => log.warn(msg));
      const config = configFrom(flags);
      setLogLevel(config.logLevel);
      const { startDaemon } = await import("../server/daemon.ts");
      const daemon = await startDaemon(config);
      (await import("../server/memory-report.ts")).reportMemoryOnSignal();
      // The daemon's JavaScript is glue between syscalls, SQLite and native streams: JIT
      // tiers pay little there and cost memory (compiled code, the compilers' own pages).
      // Sixteen times JavaScriptCore's tier-up thresholds: 6-7 MB less after a pull and
      // 20 runs, no change in `run --rm` latency or pull time measured (issue 16 note).
      // The DFG is off altogether (jit-tiers.ts); this keeps baseline code to what is hot.
      // The compiled binary starts with this policy already (scripts/build.ts compile.jitPolicy):
      // the call matters when run from source (tests, `bun src/cli.ts`). Change both together.
      Bun.unsafe.setJITPolicy(16);
      log.info("daemon started", { root: config.root, pid: process.pid });
      await new Promise<void>((resolve) => {
        let stopping = false;
        const stop = (sig: string) => {
          if (stopping) return;
          stopping = true;
          log.info("shutting down", { signal: sig });
          daemon.close().then(resolve, (e) => {
            log.error("shutdown failed", { error: String(e) });
            resolve();
          });
        };
        process.on("SIGTERM", () => stop("SIGTERM"));
        process.on("SIGINT", () => stop("SIGINT"));
      });
      process.exit(0);
    });
}

function configFrom(f: DaemonFlags): DaemonConfig {
  const c = defaultConfig();
  const hosts = list(f.host);
  if (hosts.length) c.hosts = hosts;
  if (f.root) c.root = f.root;
  if (f.execRoot) c.execRoot = f.execRoot;
  if (f.storageDriver) {
    if (f.storageDriver !== "overlay2" && f.storageDriver !== "vfs") {
      throw new Error(`unknown storage driver ${f.storageDriver}: want overlay2 or vfs`);
    }
    c.storageDriver = f.storageDriver;
  }
  c.insecureRegistries = list(f.insecureRegistry);
  c.registryMirrors = list(f.registryMirror);
  if (f.logLevel) c.logLevel = f.logLevel;
  if (f.tlscert || f.tlskey) {
    if (!f.tlscert || !f.tlskey) throw new Error("--tlscert and --tlskey go together");
    if (f.tlsverify && !f.tlscacert) throw new Error("--tlsverify needs --tlscacert: the CA that signs client certificates");
    c.tls = { cert: f.tlscert, key: f.tlskey, ca: f.tlscacert, verify: !!f.tlsverify };
  }
  c.bip = f.bip;
  if (f.bridge) c.bridge = validBridgeName(f.bridge);
  if (f.firewall) {
    if (f.firewall !== "nftables" && f.firewall !== "iptables") throw new Error(`unknown firewall ${f.firewall}: want nftables or iptables`);
    c.firewall = f.firewall;
  }
  c.defaultAddressPool = f.defaultAddressPool;
  c.dns = list(f.dns);
  if (c.dns.some((d) => !isIP(d))) throw new Error(`invalid --dns ${c.dns.find((d) => !isIP(d))}: want an IP address`);
  if (f.maxConcurrentDownloads !== undefined) c.maxConcurrentDownloads = Number(f.maxConcurrentDownloads);
  c.security = { seccompProfile: f.seccompProfile, noNewPrivileges: f.newPrivileges === false, defaultUlimits: list(f.defaultUlimit), ...(f.usernsRemap ? { usernsRemap: f.usernsRemap } : {}) };
  if (f.group) c.group = f.group;
  c.liveRestore = !!f.liveRestore;
  if (f.cgroupParent !== undefined) c.cgroupParent = cgroupParentName(f.cgroupParent);
  for (const o of list(f.execOpt)) checkExecOpt(o);
  return c;
}

/**
 * dockerd's exec-opts: only native.cgroupdriver, whose cgroupfs is what ctr
 * does. systemd would mean asking systemd for a scope per container over D-Bus
 * (what runc's systemd manager does); ctr places cgroups itself, so it says so
 * at start rather than fail every container start as dockerd 20.10 does where
 * systemd does not run (with the same words, runc's).
 */
function checkExecOpt(o: string, systemdRunning = existsSync("/run/systemd/system")): void {
  const [key, value] = [o.slice(0, o.indexOf("=")).trim(), o.slice(o.indexOf("=") + 1).trim()];
  if (o.indexOf("=") < 0 || key !== "native.cgroupdriver") throw new Error(`unknown exec-opt ${JSON.stringify(o)}: ctr knows native.cgroupdriver=cgroupfs`);
  if (value === "cgroupfs") return;
  if (value !== "systemd") throw new Error(`native.cgroupdriver option ${value} not supported`);
  if (!systemdRunning) throw new Error("systemd not running on this host, cannot use systemd cgroups manager");
  throw new Error("native.cgroupdriver=systemd: ctr places cgroups itself and does not ask systemd for scopes; use native.cgroupdriver=cgroupfs");
}

/** dockerd's `/docker` form is accepted; a systemd slice is not (ctr drives cgroupfs only, as /info says). */
function cgroupParentName(v: string): string {
  const name = v.replace(/^\/+|\/+$/g, "");
  if (!name || name.split("/").some((p) => p === ".." || p === ".")) throw new Error(`invalid --cgroup-parent ${JSON.stringify(v)}`);
  if (name.endsWith(".slice")) throw new Error(`--cgroup-parent ${v}: a systemd slice needs the systemd cgroup driver; ctr uses cgroupfs`);
  return name;
}

/** A Linux interface name: at most 15 bytes, no slash or space. */
function validBridgeName(name: string): string {
  if (!/^[A-Za-z0-9_.-]{1,15}$/.test(name)) throw new Error(`invalid bridge name ${JSON.stringify(name)}: 1-15 of [A-Za-z0-9_.-]`);
  return name;
}
