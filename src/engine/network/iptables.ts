// The firewall where `nft` is missing: the same rules as nft.ts, in chains of
// our own in iptables' nat and filter tables. Each apply rewrites our chains
// with one `iptables-restore --noflush` per table (declaring a chain flushes
// it; other chains are untouched), then makes sure the built-in chains jump to
// ours exactly once. Never touches the user's rules.
import { spawnSync } from "node:child_process";
import type { Firewall, FirewallState } from "./nft.ts";

/** Our chain names for one daemon (iptables allows 28 characters). */
export function chainNames(table: string): { pre: string; out: string; publish: string; post: string; forward: string } {
  const base = table.toUpperCase().replace(/[^A-Z0-9_]/g, "_").slice(0, 20);
  return { pre: `${base}-PRE`, out: `${base}-OUT`, publish: `${base}-PUB`, post: `${base}-POST`, forward: `${base}-FWD` };
}

/** iptables-restore input for both tables, from the same state nft.ts renders. */
export function renderIptables(s: FirewallState, table: string): { nat: string; filter: string } {
  const c = chainNames(table);
  const nat = [`*nat`, `:${c.pre} - [0:0]`, `:${c.out} - [0:0]`, `:${c.publish} - [0:0]`, `:${c.post} - [0:0]`];
  nat.push(`-A ${c.pre} -m addrtype --dst-type LOCAL -j ${c.publish}`, `-A ${c.out} -m addrtype --dst-type LOCAL -j ${c.publish}`);
  for (const p of s.ports) {
    const dst = p.hostIp === "0.0.0.0" ? "" : `-d ${p.hostIp}/32 `;
    nat.push(`-A ${c.publish} ${dst}-p ${p.proto} -m ${p.proto} --dport ${p.hostPort} -m comment --comment ctr:${p.containerId.slice(0, 12)} -j DNAT --to-destination ${p.containerIp}:${p.containerPort}`);
  }
  for (const n of s.networks) {
    if (!n.internal) nat.push(`-A ${c.post} -s ${n.subnet} ! -o ${n.bridge} -j MASQUERADE`);
    nat.push(`-A ${c.post} -o ${n.bridge} -s 127.0.0.0/8 -j MASQUERADE`);
    nat.push(`-A ${c.post} -o ${n.bridge} -s ${n.subnet} -m conntrack --ctstate DNAT -j MASQUERADE`);
  }
  nat.push("COMMIT");
  const filter = [`*filter`, `:${c.forward} - [0:0]`];
  for (const n of s.networks) {
    if (n.internal) {
      filter.push(`-A ${c.forward} -i ${n.bridge} ! -o ${n.bridge} -j REJECT`, `-A ${c.forward} -o ${n.bridge} ! -i ${n.bridge} -j REJECT`);
    } else {
      for (const o of s.networks) if (o.bridge !== n.bridge) filter.push(`-A ${c.forward} -i ${n.bridge} -o ${o.bridge} -j REJECT`);
    }
  }
  filter.push("COMMIT");
  return { nat: nat.join("\n") + "\n", filter: filter.join("\n") + "\n" };
}

function run(cmd: string, args: string[], input?: string): { ok: boolean; err: string } {
  const r = spawnSync(cmd, args, { input, encoding: "utf8" });
  if (r.error) throw new Error(`${cmd}: ${r.error.message}`);
  return { ok: r.status === 0, err: (r.stderr ?? "").trim() };
}

/** The built-in chain → our chain jumps, per table. */
function jumps(table: string): [string, string, string][] {
  const c = chainNames(table);
  return [["nat", "PREROUTING", c.pre], ["nat", "OUTPUT", c.out], ["nat", "POSTROUTING", c.post], ["filter", "FORWARD", c.forward]];
}

export function iptablesFirewallFor(table: string, bin = "iptables"): Firewall {
  const restore = `${bin}-restore`;
  return {
    apply(s) {
      const r = renderIptables(s, table);
      for (const input of [r.nat, r.filter]) {
        const res = run(restore, ["--noflush"], input);
        if (!res.ok) throw new Error(`${restore}: ${res.err}`);
      }
      for (const [t, from, to] of jumps(table)) {
        if (!run(bin, ["-t", t, "-C", from, "-j", to]).ok) {
          const res = run(bin, ["-t", t, "-I", from, "-j", to]);
          if (!res.ok) throw new Error(`${bin}: ${res.err}`);
        }
      }
    },
    clear() {
      for (const [t, from, to] of jumps(table)) {
        while (run(bin, ["-t", t, "-D", from, "-j", to]).ok) {}
        run(bin, ["-t", t, "-F", to]);
        run(bin, ["-t", t, "-X", to]);
      }
      const c = chainNames(table);
      run(bin, ["-t", "nat", "-F", c.publish]);
      run(bin, ["-t", "nat", "-X", c.publish]);
    },
  };
}

export function iptablesAvailable(bin = "iptables"): boolean {
  try {
    return run(bin, ["--version"]).ok;
  } catch {
    return false;
  }
}
