// The firewall side of the bridge driver: one nftables table, `ip ctr`, owned
// entirely by us and rendered from the store's state every time it changes.
// Replacing the whole table in one `nft -f` transaction is atomic (the kernel
// swaps rule sets at commit), never touches other tables, and makes
// reconciliation trivial: whatever is not in the store is gone after the next
// apply. Established connections survive, conntrack keeps their NAT bindings.
//
// The `nft` binary is a run-time dependency (netlink nftables is future work);
// hosts without it get the same rules as iptables chains (iptables.ts).
import { spawnSync } from "node:child_process";
import type { PortMap } from "./store.ts";

export const TABLE = "ctr";

export interface FirewallNetwork {
  bridge: string;
  subnet: string;
  internal: boolean;
}

export interface FirewallState {
  networks: readonly FirewallNetwork[];
  ports: readonly PortMap[];
}

const q = (s: string) => JSON.stringify(s);

/**
 * Published ports are DNAT in prerouting (from other hosts) and output (from
 * the host itself: `curl 127.0.0.1:8080`). For the latter the packet leaves
 * with source 127.0.0.1 towards the bridge, which the kernel allows only with
 * route_localnet=1 on the bridge (set by the driver), and we masquerade it to
 * the bridge address so the container can answer. This is Docker's
 * `--userland-proxy=false` mode; we chose it over a docker-proxy-like relay
 * because it costs no process, socket or copy per port and keeps client
 * addresses for remote clients.
 */
export function renderRuleset(s: FirewallState, table = TABLE): string {
  const L: string[] = [];
  L.push(`table ip ${table} {`);
  L.push(`  chain prerouting {`, `    type nat hook prerouting priority dstnat; policy accept;`, `    fib daddr type local jump publish`, `  }`);
  L.push(`  chain output {`, `    type nat hook output priority -100; policy accept;`, `    fib daddr type local jump publish`, `  }`);
  L.push(`  chain publish {`);
  for (const p of s.ports) {
    const dst = p.hostIp === "0.0.0.0" ? "" : `ip daddr ${p.hostIp} `;
    L.push(`    ${dst}${p.proto} dport ${p.hostPort} dnat to ${p.containerIp}:${p.containerPort} comment ${q(`ctr:${p.containerId.slice(0, 12)}`)}`);
  }
  L.push(`  }`);
  L.push(`  chain postrouting {`, `    type nat hook postrouting priority srcnat; policy accept;`);
  for (const n of s.networks) {
    // Outbound NAT for the subnet (not for internal networks: they have no way out).
    if (!n.internal) L.push(`    ip saddr ${n.subnet} oifname != ${q(n.bridge)} masquerade`);
    // Host-local clients of published ports (route_localnet) and containers
    // reaching a published port of their own bridge (hairpin).
    L.push(`    oifname ${q(n.bridge)} ip saddr 127.0.0.0/8 masquerade`);
    L.push(`    oifname ${q(n.bridge)} ip saddr ${n.subnet} ct status dnat masquerade`);
  }
  L.push(`  }`);
  // Isolation: traffic between two of our bridges is refused (Docker's
  // DOCKER-ISOLATION chains); an internal network forwards nothing out or in.
  // We reject rather than drop so a refused peer fails fast.
  L.push(`  chain forward {`, `    type filter hook forward priority filter; policy accept;`);
  const bridges = s.networks.map((n) => q(n.bridge));
  for (const n of s.networks) {
    const b = q(n.bridge);
    if (n.internal) {
      L.push(`    iifname ${b} oifname != ${b} reject`);
      L.push(`    oifname ${b} iifname != ${b} reject`);
    } else if (bridges.length > 1) {
      L.push(`    iifname ${b} oifname { ${bridges.filter((x) => x !== b).join(", ")} } reject`);
    }
  }
  L.push(`  }`);
  L.push(`}`);
  return L.join("\n") + "\n";
}

/** What the driver needs from the firewall; a fake in unit tests. */
export interface Firewall {
  apply(s: FirewallState): void;
  /** Removes everything we installed (daemon shutdown, tests). */
  clear(): void;
}

function nft(input: string): void {
  const r = spawnSync("nft", ["-f", "-"], { input, encoding: "utf8" });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`nft: ${r.stderr.trim()}`);
}

export function nftAvailable(): boolean {
  const r = spawnSync("nft", ["--version"], { encoding: "utf8" });
  return !r.error && r.status === 0;
}

/** The real firewall; tests pass another table name so they never touch a daemon's rules. */
export function nftFirewallFor(table = TABLE): Firewall {
  return {
    apply(s) {
      // `table` first so `delete` never fails on a fresh host; all in one transaction.
      nft(`table ip ${table}\ndelete table ip ${table}\n${renderRuleset(s, table)}`);
    },
    clear() {
      nft(`table ip ${table}\ndelete table ip ${table}\n`);
    },
  };
}

export const nftFirewall: Firewall = nftFirewallFor(TABLE);

/** One table per default bridge, so two daemons on one host (tests) never rewrite each other's rules. */
export function tableForBridge(bridge: string | undefined): string {
  return !bridge || bridge === "ctr0" ? TABLE : `ctr_${bridge.replace(/[^A-Za-z0-9_]/g, "_")}`;
}
