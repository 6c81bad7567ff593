// rtnetlink primitives against the real kernel, inside a netns made by the test.
import { describe, expect, test, beforeAll, afterAll } from "bun:test";
import { spawnSync } from "node:child_process";
import { closeSync } from "node:fs";
import { openNetlinkIn, openNetns, type Netlink } from "../../../src/kernel/netlink.ts";

const root = process.getuid?.() === 0;
const hasIp = spawnSync("sh", ["-c", "command -v ip"]).status === 0;
if (!root || !hasIp) console.warn(`skipping netlink integration tests: ${!root ? "needs root" : "missing ip (iproute2, used to make the test netns)"}`);

const tag = `${process.pid % 10000}`;
const outer = `ctrnl${tag}o`;
const inner = `ctrnl${tag}i`;
const ipIn = (ns: string, args: string[]) => spawnSync("ip", ["-n", ns, ...args], { encoding: "utf8" }).stdout;

describe.skipIf(!root || !hasIp)("rtnetlink (root)", () => {
  let nl: Netlink;
  beforeAll(() => {
    for (const n of [outer, inner]) expect(spawnSync("ip", ["netns", "add", n]).status).toBe(0);
    // Work inside a scratch netns ("outer") so nothing touches the host's links.
    nl = openNetlinkIn(`/run/netns/${outer}`);
  });
  afterAll(() => {
    nl?.close();
    for (const n of [outer, inner]) spawnSync("ip", ["netns", "del", n]);
  });

  test("bridge, veth, master, mtu, mac, addresses, move+rename into a netns, route, delete", () => {
    nl.createBridge("tbr0", { mtu: 1400 });
    nl.setUp("tbr0");
    nl.addAddr("tbr0", "10.231.0.1", 24);
    nl.createVeth("vtest0", "vpeer0");
    nl.setMaster("vtest0", "tbr0");
    nl.setMtu("vtest0", 1400);
    nl.setUp("vtest0");
    nl.rename("vpeer0", "vpeer1");
    nl.setMac("vpeer1", "02:42:0a:e7:00:02");
    const br = nl.link("tbr0")!;
    expect(nl.link("vtest0")).toMatchObject({ kind: "veth", master: br.index, mtu: 1400, up: true });
    expect(nl.link("vpeer1")!.mac).toBe("02:42:0a:e7:00:02");
    expect(nl.link("vpeer0")).toBeNull();
    expect(nl.addrs().some((a) => a.address === "10.231.0.1" && a.prefixLen === 24 && a.index === br.index)).toBe(true);
    expect(nl.routes().some((r) => r.dst === "10.231.0.0" && r.dstLen === 24 && r.oif === br.index)).toBe(true);

    const fd = openNetns(`/run/netns/${inner}`);
    try {
      nl.setNetns("vpeer1", fd, "eth0");
    } finally {
      closeSync(fd);
    }
    expect(nl.link("vpeer1")).toBeNull();
    const inside = openNetlinkIn(`/run/netns/${inner}`);
    try {
      inside.addAddr("eth0", "10.231.0.2", 24);
      inside.setUp("eth0");
      inside.setUp("lo");
      inside.addDefaultRoute("10.231.0.1", "eth0");
      expect(inside.link("eth0")).toMatchObject({ mac: "02:42:0a:e7:00:02", up: true });
      expect(inside.routes().some((r) => r.dstLen === 0 && r.gateway === "10.231.0.1")).toBe(true);
      inside.delAddr("eth0", "10.231.0.2", 24);
      expect(inside.addrs().some((a) => a.address === "10.231.0.2")).toBe(false);
      expect(ipIn(inner, ["-o", "link", "show", "eth0"])).toContain("eth0");
    } finally {
      inside.close();
    }
    expect(() => nl.createBridge("tbr0")).toThrow(/File exists/);
    nl.deleteLink("vtest0");
    nl.deleteLink("tbr0");
    expect(nl.link("tbr0")).toBeNull();
    expect(ipIn(inner, ["-o", "link"])).not.toContain("eth0"); // the pair went with its host end
  });

  test("one handle keeps the indices it looked up, and forgets a name once renamed, moved or deleted", () => {
    const h = openNetlinkIn(`/run/netns/${outer}`);
    try {
      h.createVeth("vcache0", "vcache1");
      h.setUp("vcache0"); // looked up (and kept) here
      h.rename("vcache0", "vcache2");
      expect(() => h.setUp("vcache0")).toThrow(/No such device/);
      h.setMtu("vcache2", 1300);
      expect(h.link("vcache2")).toMatchObject({ mtu: 1300 });
      // A new link that takes a forgotten name is looked up afresh, not mistaken for the old one.
      h.createVeth("vcache0", "vcache3");
      h.setMtu("vcache0", 1280);
      expect([h.link("vcache0")!.mtu, h.link("vcache2")!.mtu]).toEqual([1280, 1300]);
      h.deleteLink("vcache0");
      h.deleteLink("vcache2");
      expect(() => h.setUp("vcache2")).toThrow(/No such device/);
      // lo is index 1 in every netns: no lookup needed to bring it up or strip ::1 from it.
      h.setUp("lo");
      expect(ipIn(outer, ["-o", "link", "show", "lo"])).toContain("UP");
    } finally {
      h.close();
    }
  });
});
