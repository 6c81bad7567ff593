// Openings for our bridges in firewalls that are not ours.
//
// Our own table (nft.ts) or chains (iptables.ts) accept what our bridges
// forward, but an accept is final only for the chain that says it: every
// other base chain on the forward hook still runs, and one drop anywhere wins.
// Docker sets the iptables FORWARD policy to DROP (and br_netfilter makes even
// same-bridge traffic pass through it), ufw does the same, and a hand-written
// `inet filter` table often has `policy drop` — each silently cuts our
// containers off from each other and from their published ports. netavark hit
// the same (podman#24486) and answered by adding accept rules to Docker's
// DOCKER-USER chain; we do that, and the same in other tables' nft base chains.
//
// What we add only neutralises the other firewall's *default* verdict: the
// accepts go at the end of the chain (before a final catch-all drop/reject or
// DOCKER-USER's final RETURN), so the owner's own earlier rules still decide
// first. Isolation between our bridges stays with our own table's rejects.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import type { Firewall, FirewallNetwork } from "./nft.ts";
import { log } from "../../log.ts";

// ── what to accept ────────────────────────────────────────────────────────

/**
 * nft rule bodies for our bridges: anything leaving a bridge (to the world or
 * the same bridge), and into a bridge only replies and published ports (DNAT):
 * a remote host routing straight to a container address is not let in.
 * An internal network forwards only within its bridge.
 */
export function nftAcceptRules(networks: readonly FirewallNetwork[]): string[] {
  const q = JSON.stringify;
  return networks.flatMap((n) =>
    n.internal
      ? [`iifname ${q(n.bridge)} oifname ${q(n.bridge)} accept`]
      : [`iifname ${q(n.bridge)} accept`, `oifname ${q(n.bridge)} ct state established,related accept`, `oifname ${q(n.bridge)} ct status dnat accept`],
  );
}

/** The same in iptables syntax, for our accept chain. */
export function iptablesAcceptRules(chain: string, networks: readonly FirewallNetwork[]): string[] {
  return networks.flatMap((n) =>
    n.internal
      ? [`-A ${chain} -i ${n.bridge} -o ${n.bridge} -j ACCEPT`]
      : [`-A ${chain} -i ${n.bridge} -j ACCEPT`, `-A ${chain} -o ${n.bridge} -m conntrack --ctstate RELATED,ESTABLISHED,DNAT -j ACCEPT`],
  );
}

// ── nft: base chains of other tables ──────────────────────────────────────

interface NftChain { family: string; table: string; name: string; hook?: string; policy?: string; handle: number }
interface NftRule { family: string; table: string; chain: string; handle: number; comment?: string; expr: Record<string, unknown>[] }
export interface NftRuleset { nftables: ({ chain?: NftChain; rule?: NftRule } & Record<string, unknown>)[] }

/** Statements that do not decide a verdict; a rule made only of these and one drop/reject is a catch-all. */
const PASSIVE = new Set(["counter", "log", "limit"]);

function catchAll(r: NftRule | undefined): boolean {
  if (!r) return false;
  const active = r.expr.filter((s) => !Object.keys(s).some((k) => PASSIVE.has(k)));
  return active.length === 1 && ("drop" in active[0]! || "reject" in active[0]!);
}

export interface NftPlanOptions {
  /** Our table: never opened (it accepts already). */
  ownTable: string;
  /** iptables (nf_tables backend) owns `ip filter FORWARD`: that chain is opened through iptables, not nft. */
  iptablesOwnsFilter: boolean;
  networks: readonly FirewallNetwork[];
}

/** The comment that marks our rules; it carries a hash of their content so an unchanged set is left alone. */
export function nftTag(ownTable: string, rules: readonly string[]): string {
  return `${ownTable}:${createHash("sha256").update(rules.join("\n")).digest("hex").slice(0, 12)}`;
}

/** An `nft -f` script that brings our openings in other tables up to date ("" when they are). */
export function planNftOpenings(rs: NftRuleset, o: NftPlanOptions): string {
  const rules = nftAcceptRules(o.networks);
  const tag = nftTag(o.ownTable, rules);
  const prefix = `${o.ownTable}:`;
  const chains = rs.nftables.flatMap((e) => (e.chain ? [e.chain] : []));
  const allRules = rs.nftables.flatMap((e) => (e.rule ? [e.rule] : []));
  const out: string[] = [];
  for (const c of chains) {
    if (c.hook !== "forward" || (c.family !== "ip" && c.family !== "inet") || c.table === o.ownTable) continue;
    if (o.iptablesOwnsFilter && c.family === "ip" && c.table === "filter" && c.name === "FORWARD") continue;
    const inChain = allRules.filter((r) => r.family === c.family && r.table === c.table && r.chain === c.name);
    const ours = inChain.filter((r) => r.comment?.startsWith(prefix));
    const theirs = inChain.filter((r) => !r.comment?.startsWith(prefix));
    const last = theirs.at(-1);
    const closes = c.policy === "drop" || catchAll(last);
    const want = closes ? rules : [];
    if (ours.length === want.length && ours.every((r) => r.comment === tag)) continue;
    const where = `${c.family} ${c.table} ${c.name}`;
    for (const r of ours) out.push(`delete rule ${where} handle ${r.handle}`);
    for (const body of want) {
      // Before the owner's catch-all, else at the end (the policy comes after every rule).
      out.push(catchAll(last) ? `insert rule ${where} position ${last!.handle} ${body} comment "${tag}"` : `add rule ${where} ${body} comment "${tag}"`);
    }
  }
  return out.length ? out.join("\n") + "\n" : "";
}

// ── iptables: FORWARD, or Docker's DOCKER-USER ────────────────────────────

/** `iptables -t filter -S` as the planner needs it. */
export interface IptablesView {
  policies: Map<string, string>;
  chains: Set<string>;
  /** `-A` lines by chain, in order. */
  rules: Map<string, string[]>;
}

export function parseIptablesS(s: string): IptablesView {
  const v: IptablesView = { policies: new Map(), chains: new Set(), rules: new Map() };
  for (const line of s.split("\n")) {
    const [op, chain, ...rest] = line.trim().split(/\s+/);
    if (!chain) continue;
    if (op === "-P") {
      v.chains.add(chain);
      v.policies.set(chain, rest[0] ?? "");
    } else if (op === "-N") v.chains.add(chain);
    else if (op === "-A") {
      if (!v.rules.has(chain)) v.rules.set(chain, []);
      v.rules.get(chain)!.push(line.trim());
    }
  }
  return v;
}

const TERMINAL = /^-A \S+ -j (RETURN|DROP|REJECT)( --reject-with \S+)?$/;

/** iptables argument lists that put one jump to `acc` where it takes effect, or take it away. */
export function planIptablesOpenings(v: IptablesView, acc: string, wanted: boolean): { target: string | null; commands: string[][] } {
  const forwardCloses = v.policies.get("FORWARD") === "DROP" || TERMINAL.test(v.rules.get("FORWARD")?.at(-1) ?? "");
  // Docker jumps to DOCKER-USER first thing in FORWARD, and documents it as the place for rules of others;
  // a DOCKER-USER that FORWARD no longer jumps to (a half-removed Docker) would hold our rules for nothing.
  const dockerUser = v.chains.has("DOCKER-USER") && (v.rules.get("FORWARD") ?? []).includes("-A FORWARD -j DOCKER-USER");
  const target = !wanted ? null : dockerUser ? "DOCKER-USER" : forwardCloses ? "FORWARD" : null;
  const commands: string[][] = [];
  const jump = (chain: string) => (v.rules.get(chain) ?? []).some((r) => r === `-A ${chain} -j ${acc}`);
  for (const chain of v.chains) if (chain !== target && jump(chain)) commands.push(["-D", chain, "-j", acc]);
  if (target && !jump(target)) {
    const rules = v.rules.get(target) ?? [];
    commands.push(TERMINAL.test(rules.at(-1) ?? "") ? ["-I", target, String(rules.length), "-j", acc] : ["-A", target, "-j", acc]);
  }
  return { target, commands };
}

// ── running it ────────────────────────────────────────────────────────────

function sh(cmd: string, args: string[], input?: string): { ok: boolean; out: string; err: string } {
  const r = spawnSync(cmd, args, { input, encoding: "utf8" });
  if (r.error) return { ok: false, out: "", err: r.error.message };
  return { ok: r.status === 0, out: r.stdout ?? "", err: (r.stderr ?? "").trim() };
}

let backendCache: "nft" | "legacy" | "none" | undefined;
/** Which kernel side `iptables` edits: nf_tables (its tables are visible to nft) or the legacy xtables. */
function iptablesBackend(): "nft" | "legacy" | "none" {
  if (backendCache) return backendCache;
  const r = sh("iptables", ["--version"]);
  backendCache = !r.ok ? "none" : r.out.includes("nf_tables") ? "nft" : "legacy";
  return backendCache;
}

export interface OpeningsOptions {
  /** Our table name (nft.ts tableForBridge); names our accept chain and tags our nft rules. */
  table: string;
  /** With the iptables backend: our isolation chain, jumped to first so its rejects keep priority over our accepts. */
  isolationChain?: string;
}

/** Our iptables accept chain (fits iptables' 28 characters). */
export function acceptChain(table: string): string {
  return `${table.toUpperCase().replace(/[^A-Z0-9_]/g, "_").slice(0, 20)}-ACC`;
}

function syncNft(o: OpeningsOptions, networks: readonly FirewallNetwork[]): NftRuleset | null {
  const r = sh("nft", ["-j", "list", "ruleset"]);
  if (!r.ok) return null;
  const rs = JSON.parse(r.out) as NftRuleset;
  const script = planNftOpenings(rs, { ownTable: o.table, iptablesOwnsFilter: iptablesBackend() === "nft", networks });
  if (script) {
    const w = sh("nft", ["-f", "-"], script);
    if (!w.ok) throw new Error(`nft: ${w.err}`);
  }
  return rs;
}

function syncIptables(o: OpeningsOptions, networks: readonly FirewallNetwork[], rs: NftRuleset | null): void {
  const backend = iptablesBackend();
  if (backend === "none") return;
  // Listing through iptables-nft creates `ip filter` on a host that has none: look with nft first.
  if (backend === "nft" && rs && !rs.nftables.some((e) => (e as { table?: { family: string; name: string } }).table?.family === "ip" && (e as { table?: { name: string } }).table?.name === "filter")) return;
  const acc = acceptChain(o.table);
  const view = parseIptablesS(sh("iptables", ["-t", "filter", "-S"]).out);
  const plan = planIptablesOpenings(view, acc, networks.length > 0);
  if (plan.target) {
    const body = [...(o.isolationChain ? [`-A ${acc} -j ${o.isolationChain}`] : []), ...iptablesAcceptRules(acc, networks)];
    const w = sh("iptables-restore", ["--noflush"], ["*filter", `:${acc} - [0:0]`, ...body, "COMMIT", ""].join("\n"));
    if (!w.ok) throw new Error(`iptables-restore: ${w.err}`);
  }
  for (const args of plan.commands) {
    const w = sh("iptables", ["-t", "filter", ...args]);
    if (!w.ok) throw new Error(`iptables ${args.join(" ")}: ${w.err}`);
  }
  if (!plan.target && view.chains.has(acc)) {
    sh("iptables", ["-t", "filter", "-F", acc]);
    sh("iptables", ["-t", "filter", "-X", acc]);
  }
}

/** Brings our openings in other firewalls in line with `networks` (none: all removed). */
export function syncForwardOpenings(o: OpeningsOptions, networks: readonly FirewallNetwork[]): void {
  try {
    syncIptables(o, networks, syncNft(o, networks));
  } catch (e) {
    // Our own rules are in place; a foreign firewall we could not open is reported, not fatal.
    log.warn("could not open other firewalls for our bridges", { table: o.table, error: (e as Error).message });
  }
}

/**
 * How often the openings are checked again: the other firewall changes
 * behind our back (Docker starts after us, a firewall reload flushes FORWARD),
 * and our own state may not change for hours. Two listings, ~5 ms.
 */
const RECHECK_MS = 30_000;

/** A firewall that also keeps the openings in line with the bridges it serves. */
export function withForwardOpenings(fw: Firewall, o: OpeningsOptions): Firewall {
  let networks: readonly FirewallNetwork[] = [];
  let timer: Timer | null = null;
  const recheck = () => {
    if (networks.length) syncForwardOpenings(o, networks);
  };
  return {
    apply(s) {
      fw.apply(s);
      networks = s.networks;
      syncForwardOpenings(o, s.networks);
      if (!timer) {
        timer = setInterval(recheck, RECHECK_MS);
        timer.unref?.();
      }
    },
    clear() {
      networks = [];
      if (timer) clearInterval(timer);
      timer = null;
      // Openings first: our accept chain may jump to the isolation chain fw.clear() deletes.
      syncForwardOpenings(o, []);
      fw.clear();
    },
  };
}
