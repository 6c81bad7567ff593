// The driver against a fake kernel: IPAM, lifecycle of records, Docker shapes.
import { describe, expect, test } from "bun:test";
import { openDatabase } from "../../../src/store/db.ts";
import { NetworkManager, type NetKernel } from "../../../src/engine/network/manager.ts";
import type { Netlink, LinkInfo } from "../../../src/kernel/netlink.ts";
import type { FirewallState } from "../../../src/engine/network/nft.ts";
import { renderNetwork, renderNetworkList, renderNetworkSettings } from "../../../src/engine/network/render.ts";
import { ConflictError, ForbiddenError, NotFoundError } from "../../../src/engine/errors.ts";

function fakeKernel() {
  const links = new Map<string, LinkInfo>();
  const calls: string[] = [];
  let fw: FirewallState = { networks: [], ports: [] };
  const nl = (where: string): Netlink => ({
    links: () => (where === "host" ? [...links.values()] : [{ index: 1, name: "lo", flags: 0, up: false, mtu: 65536, mac: "", master: null, kind: "" }]),
    link: (n) => links.get(n) ?? null,
    addrs: () => [{ index: 9, family: 2, prefixLen: 16, address: "172.17.0.5", label: "eth9" }],
    routes: () => [{ family: 2, dst: "172.18.0.0", dstLen: 16, gateway: "", oif: 9, table: 254, type: 1 }],
    createBridge: (n) => void links.set(n, { index: links.size + 10, name: n, flags: 0, up: false, mtu: 1500, mac: "", master: null, kind: "bridge" }),
    createVeth: (n, p) => {
      calls.push(`veth ${n} ${p}`);
      links.set(n, { index: links.size + 10, name: n, flags: 0, up: false, mtu: 1500, mac: "", master: null, kind: "veth" });
    },
    setUp: (n) => void calls.push(`${where} up ${n}`),
    setMtu: () => {},
    setMaster: (n, m) => void calls.push(`master ${n} ${m}`),
    setNetns: () => {},
    rename: () => {},
    setMac: (n, mac) => void calls.push(`${where} mac ${n} ${mac}`),
    noIpv6LinkLocal: (n) => void calls.push(`${where} no-ll6 ${n}`),
    addAddr: (n, ip, p) => void calls.push(`${where} addr ${n} ${ip}/${p}`),
    delAddr: () => {},
    addDefaultRoute: (gw, dev) => void calls.push(`${where} route ${gw} ${dev}`),
    deleteLink: (n) => {
      calls.push(`del ${n}`);
      links.delete(n);
    },
    close: () => {},
  });
  const kernel: NetKernel = {
    host: () => nl("host"),
    inNetns: () => nl("ns"),
    openNetnsFd: () => 99,
    closeFd: () => {},
    sysctl: (k, v) => void calls.push(`sysctl ${k}=${v}`),
    hairpin: () => {},
    firewall: { apply: (s) => void (fw = s), clear: () => void (fw = { networks: [], ports: [] }) },
  };
  return { kernel, links, calls, fw: () => fw };
}

const req = (id: string, extra: object = {}) => ({ containerId: id.repeat(64), name: `/${id}`, netns: { pid: 1 }, ...extra });

describe("network manager (fake kernel)", () => {
  test("default bridge avoids host subnets; endpoints get sequential addresses and Docker MACs", async () => {
    const k = fakeKernel();
    const m = new NetworkManager({ db: openDatabase(":memory:"), kernel: k.kernel, dns: false });
    const e1 = await m.connect("bridge", req("a"));
    const e2 = await m.connect("bridge", req("b"));
    expect(m.find("bridge")).toMatchObject({ subnet: "172.19.0.0/16", gateway: "172.19.0.1", bridge: "ctr0" });
    expect([e1.ipAddress, e2.ipAddress, e1.macAddress, e1.prefixLen]).toEqual(["172.19.0.2", "172.19.0.3", "02:42:ac:13:00:02", 16]);
    expect(k.calls).toContain("sysctl net.ipv4.ip_forward=1");
    expect(k.calls).toContain("sysctl net.ipv4.conf.ctr0.route_localnet=1");
    expect(k.calls).toContain("ns route 172.19.0.1 eth0");
    // A MAC of its own (unicast, locally administered), else the bridge takes its lowest port's and changes with it.
    expect(k.calls.filter((c) => c.startsWith("host mac ctr0 "))).toHaveLength(1);
    expect(k.calls.find((c) => c.startsWith("host mac ctr0 "))).toMatch(/ [0-9a-f][26ae](:[0-9a-f]{2}){5}$/);
    expect(k.fw().networks).toEqual([{ bridge: "ctr0", subnet: "172.19.0.0/16", internal: false }]);
  });

  test("--bip, --ip, conflicts, release on disconnect, no double assignment across restarts", async () => {
    const db = openDatabase(":memory:");
    const k = fakeKernel();
    let m = new NetworkManager({ db, kernel: k.kernel, dns: false, bip: "10.50.0.1/24" });
    const a = await m.connect("bridge", req("a", { ip: "10.50.0.7" }));
    expect(a.ipAddress).toBe("10.50.0.7");
    await expect(m.connect("bridge", req("b", { ip: "10.50.0.7" }))).rejects.toBeInstanceOf(ConflictError);
    await expect(m.connect("bridge", req("b", { ip: "10.50.0.1" }))).rejects.toBeInstanceOf(ConflictError);
    m = new NetworkManager({ db, kernel: k.kernel, dns: false, bip: "10.50.0.1/24" });
    expect((await m.connect("bridge", req("c"))).ipAddress).toBe("10.50.0.2");
    expect((await m.connect("bridge", req("d", { ip: "10.50.0.3" }))).ipAddress).toBe("10.50.0.3");
    await m.disconnectAll("c".repeat(64));
    expect((await m.connect("bridge", req("e"))).ipAddress).toBe("10.50.0.2");
  });

  test("user networks: create, refuse remove with endpoints, internal has no route, prune, Docker shape", async () => {
    const k = fakeKernel();
    const m = new NetworkManager({ db: openDatabase(":memory:"), kernel: k.kernel, dns: false });
    const n = await m.create({ name: "app", subnet: "10.77.0.0/24", labels: { x: "y" } });
    const i = await m.create({ name: "priv", subnet: "10.78.0.0/24", internal: true });
    await expect(m.create({ name: "app" })).rejects.toBeInstanceOf(ConflictError);
    await expect(m.create({ name: "other", subnet: "10.77.0.128/25" })).rejects.toBeInstanceOf(ConflictError);
    await expect(m.create({ name: "host" })).rejects.toBeInstanceOf(ForbiddenError);
    expect(n.bridge).toBe(`br-${n.id.slice(0, 12)}`);
    const e = await m.connect("app", req("a", { aliases: ["db"] }));
    await m.connect(i.id.slice(0, 6), req("b"));
    expect(k.calls.filter((c) => c.startsWith("ns route"))).toEqual(["ns route 10.77.0.1 eth0"]);
    expect(m.resolve(n.id, "a")).toEqual([e.ipAddress]);
    expect(m.resolve(n.id, "DB")).toEqual([e.ipAddress]);
    expect(m.resolve(n.id, "aaaaaaaaaaaa")).toEqual([e.ipAddress]);
    expect(m.resolve(n.id, "b")).toBeNull();
    await expect(m.remove("app")).rejects.toBeInstanceOf(ForbiddenError);
    expect(renderNetwork(n, m.endpoints(n.id))).toEqual({
      Name: "app", Id: n.id, Created: n.created, Scope: "local", Driver: "bridge", EnableIPv6: false,
      IPAM: { Driver: "default", Options: null, Config: [{ Subnet: "10.77.0.0/24" }] /* as given: dockerd adds no Gateway */ },
      Internal: false, Attachable: false, Ingress: false, ConfigFrom: { Network: "" }, ConfigOnly: false,
      Containers: { ["a".repeat(64)]: { Name: "a", EndpointID: e.endpointId, MacAddress: e.macAddress, IPv4Address: `${e.ipAddress}/24`, IPv6Address: "" } },
      Options: {}, Labels: { x: "y" },
    });
    expect(renderNetworkList(m).map((x) => x.Name)).toEqual(["bridge", "app", "priv", "host", "none"]);
    const s = renderNetworkSettings("app", m.endpointsOf("a".repeat(64)), []);
    expect(s.Networks["app"]).toMatchObject({ IPAddress: e.ipAddress, Aliases: ["db"], Gateway: "10.77.0.1" });
    await m.disconnect("app", "a".repeat(64));
    await m.disconnectAll("b".repeat(64));
    expect(await m.prune()).toEqual(["app", "priv"]);
    expect(() => m.find("app")).toThrow(NotFoundError);
    expect(k.calls).toContain(`del ${n.bridge}`);
  });

  test("published ports: random host port, conflicts, rules follow the store; reconcile removes dead containers' state", async () => {
    const db = openDatabase(":memory:");
    const k = fakeKernel();
    const m = new NetworkManager({ db, kernel: k.kernel, dns: false, bip: "10.60.0.1/24" });
    await m.connect("bridge", req("a", { ports: [{ proto: "tcp", containerPort: 80, hostIp: "127.0.0.1", hostPort: 0 }] }));
    const [p] = m.portsOf("a".repeat(64));
    expect(p!.hostPort).toBeGreaterThan(1023);
    expect(k.fw().ports).toEqual([p!]);
    await expect(m.connect("bridge", req("b", { ports: [{ proto: "tcp", containerPort: 80, hostIp: "0.0.0.0", hostPort: p!.hostPort }] }))).rejects.toBeInstanceOf(ConflictError);
    expect(m.endpointsOf("b".repeat(64))).toEqual([]);
    const veth = m.store.endpointsOf("a".repeat(64))[0]!.hostVeth;
    const m2 = new NetworkManager({ db, kernel: k.kernel, dns: false, bip: "10.60.0.1/24" });
    expect(await m2.reconcile(() => false)).toEqual({ removedEndpoints: 1, removedVeths: [] });
    expect(k.calls).toContain(`del ${veth}`);
    expect(k.fw().ports).toEqual([]);
    expect(db.query("SELECT count(*) AS n FROM ip_leases").get()).toEqual({ n: 0 });
  });
});
