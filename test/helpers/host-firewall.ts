// The host's firewall state a test with `startDockerd({ iptables: true })`
// changes, taken before and put back after — even on failure. Only what
// dockerd (and the test's FORWARD policy) changed is undone, never rules other
// daemons running at the same time added: rules naming DOCKER or dockerd's
// bridge, chains named DOCKER*, the FORWARD policy, tables iptables-nft
// created, and br_netfilter's switch.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { tryLock, type FileLock } from "../../src/kernel/flock.ts";
import { until } from "./daemon.ts";

const TABLES = ["filter", "nat", "mangle", "raw"] as const;
const BR_NF = "/proc/sys/net/bridge/bridge-nf-call-iptables";

const sh = (args: string[]) => {
  const r = Bun.spawnSync(args, { stderr: "pipe" });
  return { ok: r.exitCode === 0, out: r.stdout.toString() };
};

const moduleLoaded = (m: string) => existsSync("/proc/modules") && readFileSync("/proc/modules", "utf8").split("\n").some((l) => l.startsWith(`${m} `));

export interface HostFirewallSnapshot {
  /** Puts the state back and lets the next test that changes it go on. */
  restore(dockerBridge: string): void;
}

/** One such test at a time on a host (test runs of several checkouts side by side): they would undo each other. */
const LOCK = "/run/ctr-test-host-firewall.lock";

/** Waits for the host-wide lock, then takes the snapshot. */
export async function snapshotHostFirewall(): Promise<HostFirewallSnapshot> {
  const lock = (await until(() => tryLock(LOCK), "another test changing the host firewall to finish", 240_000)) as FileLock;
  try {
    const snap = takeSnapshot();
    return {
      restore(bridge) {
        try {
          snap.restore(bridge);
        } finally {
          lock.release();
        }
      },
    };
  } catch (e) {
    lock.release();
    throw e;
  }
}

function takeSnapshot(): HostFirewallSnapshot {
  const nftTables = sh(["nft", "list", "tables"]).out;
  const ipTable = (t: string) => nftTables.includes(`table ip ${t}\n`);
  const before = new Map<string, Set<string>>();
  // Listing through iptables-nft would create the table: only look at those that exist.
  for (const t of TABLES) before.set(t, new Set(ipTable(t) ? sh(["iptables", "-t", t, "-S"]).out.split("\n") : []));
  const policy = [...(before.get("filter") ?? [])].find((l) => l.startsWith("-P FORWARD ")) ?? "-P FORWARD ACCEPT";
  const brNf = existsSync(BR_NF) ? readFileSync(BR_NF, "utf8").trim() : null;
  const brModule = moduleLoaded("br_netfilter");
  return {
    restore(dockerBridge) {
      for (const t of TABLES) {
        const now = sh(["iptables", "-t", t, "-S"]).out.split("\n");
        const had = before.get(t)!;
        const ours = (l: string) => !had.has(l) && (l.includes("DOCKER") || l.includes(` ${dockerBridge} `) || l.endsWith(` ${dockerBridge}`));
        for (const l of now.filter((l) => l.startsWith("-A ") && ours(l))) sh(["iptables", "-t", t, "-D", ...l.slice(3).split(" ")]);
        const chains = now.filter((l) => l.startsWith("-N DOCKER") && !had.has(l)).map((l) => l.slice(3));
        for (const c of chains) sh(["iptables", "-t", t, "-F", c]);
        for (const c of chains) sh(["iptables", "-t", t, "-X", c]);
        if (t === "filter") sh(["iptables", ...policy.split(" ")]);
        if (!ipTable(t) && sh(["iptables", "-t", t, "-S"]).out.split("\n").every((l) => !l || l.startsWith("-P ") && l.endsWith(" ACCEPT"))) {
          sh(["nft", "delete", "table", "ip", t]);
        }
      }
      if (brNf !== null && existsSync(BR_NF)) writeFileSync(BR_NF, brNf);
      if (!brModule && moduleLoaded("br_netfilter")) sh(["modprobe", "-r", "br_netfilter"]);
    },
  };
}
