import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { formatCidr, macForIp, parseCidr } from "../../../src/engine/network/ipv4.ts";
import { chooseSubnet, DEFAULT_POOLS, parsePoolFlag } from "../../../src/engine/network/subnets.ts";
import { bindingsOf, parsePublish } from "../../../src/engine/network/publish.ts";
import { renderRuleset } from "../../../src/engine/network/nft.ts";
import { answerIps, buildAnswer, buildQuery, parseQuery } from "../../../src/engine/network/dns-msg.ts";
import { hostsFile, resolvConfFile } from "../../../src/engine/network/files.ts";
import { resolveNetworkMode, needsEndpoint } from "../../../src/engine/network/mode.ts";

describe("subnets", () => {
  test("skips pools overlapping host routes and takes the next", () => {
    const taken = [parseCidr("172.17.0.0/16"), parseCidr("172.18.5.0/24")];
    expect(formatCidr(chooseSubnet(DEFAULT_POOLS, taken)!)).toBe("172.19.0.0/16");
  });
  test("custom pool split into /24s", () => {
    const pool = parsePoolFlag("base=10.10.0.0/16,size=24");
    expect(pool).toEqual({ base: "10.10.0.0/16", size: 24 });
    expect(formatCidr(chooseSubnet([pool], [parseCidr("10.10.0.0/24")])!)).toBe("10.10.1.0/24");
    expect(chooseSubnet([{ base: "10.0.0.0/24", size: 24 }], [parseCidr("10.0.0.0/8")])).toBeNull();
  });
  test("Docker's MAC from the IP", () => {
    expect(macForIp("172.17.0.2")).toBe("02:42:ac:11:00:02");
  });
});

describe("-p parsing", () => {
  test("forms", () => {
    expect(parsePublish("127.0.0.1:8080:80")).toEqual({ "80/tcp": [{ HostIp: "127.0.0.1", HostPort: "8080" }] });
    expect(parsePublish("53:53/udp")).toEqual({ "53/udp": [{ HostIp: "", HostPort: "53" }] });
    expect(parsePublish("80")).toEqual({ "80/tcp": [{ HostIp: "", HostPort: "" }] });
    expect(parsePublish("8000-8001:80-81")).toEqual({ "80/tcp": [{ HostIp: "", HostPort: "8000" }], "81/tcp": [{ HostIp: "", HostPort: "8001" }] });
    expect(() => parsePublish("80/sctp")).toThrow();
    expect(() => parsePublish("8000-8002:80-81")).toThrow();
  });
  test("bindings with -P add exposed ports with random host ports", () => {
    expect(bindingsOf({ "80/tcp": [{ HostIp: "127.0.0.1", HostPort: "8080" }] }, { "80/tcp": {}, "53/udp": {} }, true)).toEqual([
      { proto: "tcp", containerPort: 80, hostIp: "127.0.0.1", hostPort: 8080 },
      { proto: "udp", containerPort: 53, hostIp: "0.0.0.0", hostPort: 0 },
    ]);
  });
});

describe("nft ruleset", () => {
  test("own table, DNAT per port, masquerade, isolation and internal", () => {
    const r = renderRuleset({
      networks: [{ bridge: "ctr0", subnet: "172.17.0.0/16", internal: false }, { bridge: "br-1", subnet: "172.18.0.0/16", internal: true }],
      ports: [{ containerId: "c".repeat(64), endpointId: "e", proto: "tcp", hostIp: "127.0.0.1", hostPort: 8080, containerIp: "172.17.0.2", containerPort: 80 }],
    });
    expect(r.startsWith("table ip ctr {")).toBe(true);
    expect(r).toContain(`ip daddr 127.0.0.1 tcp dport 8080 dnat to 172.17.0.2:80 comment "ctr:cccccccccccc"`);
    expect(r).toContain(`ip saddr 172.17.0.0/16 oifname != "ctr0" masquerade`);
    expect(r).not.toContain(`ip saddr 172.18.0.0/16 oifname != "br-1" masquerade`);
    expect(r).toContain(`iifname "br-1" oifname != "br-1" reject`);
    expect(r).toContain(`iifname "ctr0" oifname { "br-1" } reject`);
  });
});

describe("dns messages", () => {
  test("query → answer round trip", () => {
    const q = buildQuery(0x1234, "web");
    const parsed = parseQuery(q)!;
    expect(parsed).toMatchObject({ id: 0x1234, name: "web", type: 1 });
    expect(answerIps(buildAnswer(q, parsed, ["10.0.0.2", "10.0.0.3"]))).toEqual({ rcode: 0, ips: ["10.0.0.2", "10.0.0.3"] });
    expect(answerIps(buildAnswer(q, parsed, [], 3))).toEqual({ rcode: 3, ips: [] });
  });
});

describe("container files", () => {
  test("hosts with --add-host and own address", () => {
    const h = hostsFile({ hostname: "abc", ips: ["10.0.0.2"], extraHosts: ["db:10.0.0.9"] });
    expect(h).toContain("127.0.0.1\tlocalhost\n");
    expect(h).toContain("10.0.0.9\tdb\n");
    expect(h.endsWith("10.0.0.2\tabc\n")).toBe(true);
  });
  test("resolv.conf: loopback nameservers dropped, resolver or --dns wins", () => {
    const dir = mkdtempSync(join(tmpdir(), "ctr-resolv-"));
    try {
      const f = join(dir, "resolv.conf");
      writeFileSync(f, "search example.test\nnameserver 127.0.0.53\nnameserver 192.0.2.53\noptions ndots:2\n");
      expect(resolvConfFile({ hostResolvConf: f })).toBe("search example.test\nnameserver 192.0.2.53\noptions ndots:2\n");
      expect(resolvConfFile({ hostResolvConf: f, resolver: "10.1.0.1" })).toBe("search example.test\nnameserver 10.1.0.1\noptions ndots:2\n");
      expect(resolvConfFile({ hostResolvConf: f, dns: ["10.9.9.9"], dnsSearch: ["x"] })).toBe("search x\nnameserver 10.9.9.9\noptions ndots:2\n");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("network modes", () => {
  test("resolve", () => {
    const pidOf = (r: string) => (r === "web" ? 42 : 0);
    expect(resolveNetworkMode(undefined, pidOf)).toEqual({ kind: "new" });
    expect(resolveNetworkMode("none", pidOf)).toEqual({ kind: "new" });
    expect(resolveNetworkMode("mynet", pidOf)).toEqual({ kind: "new" });
    expect(resolveNetworkMode("host", pidOf)).toEqual({ kind: "host" });
    expect(resolveNetworkMode("container:web", pidOf)).toEqual({ kind: "join", pid: 42 });
    expect(() => resolveNetworkMode("container:gone", pidOf)).toThrow(/not running/);
    expect([needsEndpoint("bridge"), needsEndpoint("none"), needsEndpoint("host"), needsEndpoint("mynet")]).toEqual([true, false, false, true]);
  });
});
