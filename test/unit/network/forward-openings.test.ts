// Where our accept rules go in firewalls that are not ours (Docker's FORWARD
// DROP, DOCKER-USER, other tables' drop policies), planned from listings.
import { describe, expect, test } from "bun:test";
import { nftAcceptRules, nftTag, parseIptablesS, planIptablesOpenings, planNftOpenings, type NftRuleset } from "../../../src/engine/network/forward-openings.ts";

const nets = [{ bridge: "ctr0", subnet: "172.17.0.0/16", internal: false }, { bridge: "br-i", subnet: "172.30.0.0/24", internal: true }];

// What dockerd 20.10 leaves in `iptables -t filter -S` on a box where it turned forwarding on.
const DOCKER_S = `-P INPUT ACCEPT
-P FORWARD DROP
-P OUTPUT ACCEPT
-N DOCKER
-N DOCKER-ISOLATION-STAGE-1
-N DOCKER-ISOLATION-STAGE-2
-N DOCKER-USER
-A FORWARD -j DOCKER-USER
-A FORWARD -j DOCKER-ISOLATION-STAGE-1
-A FORWARD -o docker0 -j DOCKER
-A DOCKER-USER -j RETURN
`;

describe("iptables openings", () => {
  test("with Docker: one jump in DOCKER-USER, before its final RETURN", () => {
    expect(planIptablesOpenings(parseIptablesS(DOCKER_S), "CTR-ACC", true)).toEqual({ target: "DOCKER-USER", commands: [["-I", "DOCKER-USER", "1", "-j", "CTR-ACC"]] });
  });
  test("already there: nothing to do; no bridges left: the jump goes", () => {
    const s = DOCKER_S.replace("-A DOCKER-USER -j RETURN", "-A DOCKER-USER -j CTR-ACC\n-A DOCKER-USER -j RETURN");
    expect(planIptablesOpenings(parseIptablesS(s), "CTR-ACC", true).commands).toEqual([]);
    expect(planIptablesOpenings(parseIptablesS(s), "CTR-ACC", false)).toEqual({ target: null, commands: [["-D", "DOCKER-USER", "-j", "CTR-ACC"]] });
  });
  test("FORWARD DROP without Docker (ufw, a hand-made policy): appended to FORWARD; moved to DOCKER-USER once Docker came", () => {
    const ufw = "-P FORWARD DROP\n-N ufw-before-forward\n-A FORWARD -j ufw-before-forward\n";
    expect(planIptablesOpenings(parseIptablesS(ufw), "CTR-ACC", true).commands).toEqual([["-A", "FORWARD", "-j", "CTR-ACC"]]);
    const later = DOCKER_S + "-A FORWARD -j CTR-ACC\n";
    expect(planIptablesOpenings(parseIptablesS(later), "CTR-ACC", true).commands).toEqual([["-D", "FORWARD", "-j", "CTR-ACC"], ["-I", "DOCKER-USER", "1", "-j", "CTR-ACC"]]);
  });
  test("a DOCKER-USER that FORWARD no longer jumps to is passed over for FORWARD", () => {
    const s = DOCKER_S.replace("-A FORWARD -j DOCKER-USER\n", "");
    expect(planIptablesOpenings(parseIptablesS(s), "CTR-ACC", true)).toEqual({ target: "FORWARD", commands: [["-A", "FORWARD", "-j", "CTR-ACC"]] });
  });
  test("FORWARD ending in a catch-all REJECT: inserted before it; an open FORWARD is left alone", () => {
    const s = "-P FORWARD ACCEPT\n-A FORWARD -i eth0 -j ACCEPT\n-A FORWARD -j REJECT --reject-with icmp-host-prohibited\n";
    expect(planIptablesOpenings(parseIptablesS(s), "CTR-ACC", true).commands).toEqual([["-I", "FORWARD", "2", "-j", "CTR-ACC"]]);
    expect(planIptablesOpenings(parseIptablesS("-P FORWARD ACCEPT\n"), "CTR-ACC", true)).toEqual({ target: null, commands: [] });
  });
});

const chain = (family: string, table: string, name: string, extra: Record<string, unknown> = {}) => ({ chain: { family, table, name, handle: 1, ...extra } });
const rule = (family: string, table: string, chainName: string, handle: number, expr: Record<string, unknown>[], comment?: string) => ({ rule: { family, table, chain: chainName, handle, expr, ...(comment ? { comment } : {}) } });

describe("nft openings", () => {
  const base = { ownTable: "ctr", iptablesOwnsFilter: true, networks: nets };
  test("a drop-policy forward chain of another table gets our accepts at its end; ours, ip6 and iptables' FORWARD are skipped", () => {
    const rs: NftRuleset = {
      nftables: [
        chain("inet", "filter", "forward", { type: "filter", hook: "forward", prio: 0, policy: "drop" }),
        rule("inet", "filter", "forward", 4, [{ match: {} }, { accept: null }]),
        chain("ip", "ctr", "forward", { hook: "forward", policy: "accept" }),
        chain("ip", "filter", "FORWARD", { hook: "forward", policy: "drop" }),
        chain("ip6", "f6", "forward", { hook: "forward", policy: "drop" }),
        chain("inet", "open", "forward", { hook: "forward", policy: "accept" }),
        chain("inet", "filter", "input", { hook: "input", policy: "drop" }),
      ],
    };
    const tag = nftTag("ctr", nftAcceptRules(nets));
    expect(planNftOpenings(rs, base).trim().split("\n")).toEqual([
      `add rule inet filter forward iifname "ctr0" accept comment "${tag}"`,
      `add rule inet filter forward oifname "ctr0" ct state established,related accept comment "${tag}"`,
      `add rule inet filter forward oifname "ctr0" ct status dnat accept comment "${tag}"`,
      `add rule inet filter forward iifname "br-i" oifname "br-i" accept comment "${tag}"`,
    ]);
    // Without iptables on the nf_tables backend, `ip filter FORWARD` is just another table's chain.
    expect(planNftOpenings(rs, { ...base, iptablesOwnsFilter: false })).toContain("add rule ip filter FORWARD");
  });
  test("a catch-all reject at the end (firewalld): inserted before it", () => {
    const rs: NftRuleset = {
      nftables: [
        chain("inet", "firewalld", "filter_FORWARD", { hook: "forward", policy: "accept" }),
        rule("inet", "firewalld", "filter_FORWARD", 9, [{ match: {} }, { accept: null }]),
        rule("inet", "firewalld", "filter_FORWARD", 12, [{ counter: null }, { reject: { type: "icmpx", expr: "admin-prohibited" } }]),
      ],
    };
    const out = planNftOpenings(rs, { ...base, networks: [nets[0]!] });
    expect(out).toContain(`insert rule inet firewalld filter_FORWARD position 12 iifname "ctr0" accept comment`);
    expect(out.split("\n").filter(Boolean)).toHaveLength(3);
  });
  test("up to date: nothing; bridges changed: old rules replaced; no bridges: removed", () => {
    const tag = nftTag("ctr", nftAcceptRules(nets));
    const rs: NftRuleset = {
      nftables: [
        chain("inet", "filter", "forward", { hook: "forward", policy: "drop" }),
        ...nftAcceptRules(nets).map((_, i) => rule("inet", "filter", "forward", 20 + i, [{ accept: null }], tag)),
      ],
    };
    expect(planNftOpenings(rs, base)).toBe("");
    const changed = planNftOpenings(rs, { ...base, networks: [nets[0]!] }).trim().split("\n");
    expect(changed.filter((l) => l.startsWith("delete rule inet filter forward handle "))).toHaveLength(4);
    expect(changed.filter((l) => l.startsWith("add rule"))).toHaveLength(3);
    expect(planNftOpenings(rs, { ...base, networks: [] }).trim().split("\n")).toEqual([20, 21, 22, 23].map((h) => `delete rule inet filter forward handle ${h}`));
    // Another daemon's rules (another table's tag) are not ours to touch.
    expect(planNftOpenings(rs, { ...base, ownTable: "ctr_other", networks: [] })).toBe("");
  });
});
