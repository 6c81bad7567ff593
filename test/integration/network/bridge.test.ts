// Bridge networking against the real kernel, with network namespaces made by
// the test (`ip netns add`) standing in for containers. Traffic goes only to
// 127.0.0.1 and to addresses inside those namespaces. (busybox 1.35's `wget -T`
// segfaults, so wget runs without it under spawnSync's timeout.)
import { describe, expect, test, beforeAll, afterAll } from "bun:test";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createSocket } from "node:dgram";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openDatabase, type Database } from "../../../src/store/db.ts";
import { NetworkManager, realNetKernel } from "../../../src/engine/network/manager.ts";
import { nftFirewallFor } from "../../../src/engine/network/nft.ts";
import { withForwardOpenings } from "../../../src/engine/network/forward-openings.ts";

const has = (cmd: string) => spawnSync("sh", ["-c", `command -v ${cmd}`]).status === 0;
const root = process.getuid?.() === 0;
const missing = !root ? "not root" : ["ip", "nft", "busybox"].find((c) => !has(c));
if (missing) console.warn(`skipping network integration tests: ${missing === "not root" ? "needs root" : `missing ${missing}`}`);

const tag = `${process.pid % 10000}`;
const TABLE = `ctr_test_${tag}`;
const ns = (n: string) => `ctrt${tag}${n}`;
const sh = (args: string[]) => spawnSync(args[0]!, args.slice(1), { encoding: "utf8", timeout: 10_000 });
const inNs = (n: string, args: string[]) => sh(["ip", "netns", "exec", ns(n), ...args]);
/** For clients of the DNS server, which runs in this process: a sync spawn would block its event loop. */
function inNsAsync(n: string, args: string[]): Promise<{ status: number | null; stdout: string }> {
  return new Promise((resolve) => {
    const p = spawn("ip", ["netns", "exec", ns(n), ...args], { stdio: ["ignore", "pipe", "ignore"] });
    let stdout = "";
    const t = setTimeout(() => p.kill("SIGKILL"), 10_000);
    p.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
    p.on("close", (status) => {
      clearTimeout(t);
      resolve({ status, stdout });
    });
  });
}

async function until<T>(what: string, fn: () => T | Promise<T>, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${String(last ?? "")}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.skipIf(!!missing)("bridge networking (root)", () => {
  let dir = "";
  let db: Database;
  let m: NetworkManager;
  const procs: ChildProcess[] = [];
  const names = ["a", "b", "c", "d", "f"];
  // As the daemon has it: with openings in a firewall that drops forwarding (Docker's FORWARD DROP on this host).
  const kernel = { ...realNetKernel, firewall: withForwardOpenings(nftFirewallFor(TABLE), { table: TABLE }) };
  const opts = () => ({ db, kernel, pools: [{ base: "10.213.0.0/16", size: 24 }], defaultBridge: `ctrt${tag}` });

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "ctr-net-"));
    db = openDatabase(join(dir, "ctr.db"));
    m = new NetworkManager(opts());
    for (const n of names) expect(sh(["ip", "netns", "add", ns(n)]).status).toBe(0);
    writeFileSync(join(dir, "index.html"), "hello from a\n");
  });

  afterAll(async () => {
    for (const p of procs) p.kill("SIGKILL");
    try {
      await m.destroyAll();
    } catch (e) {
      console.error(e);
    }
    for (const n of names) sh(["ip", "netns", "del", ns(n)]);
    sh(["nft", "delete", "table", "ip", TABLE]);
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("two netns on a user network talk; DNS answers names and aliases; others are isolated; ports published on 127.0.0.1", async () => {
    const t1 = await m.create({ name: `t1-${tag}`, labels: { test: "1" } });
    const t2 = await m.create({ name: `t2-${tag}` });
    const ti = await m.create({ name: `ti-${tag}`, internal: true });

    const t0 = performance.now();
    const a = await m.connect(t1.name, {
      containerId: "a".repeat(64), name: "/web", netns: { path: `/run/netns/${ns("a")}` }, aliases: ["webalias"],
      ports: [
        { proto: "tcp", containerPort: 80, hostIp: "127.0.0.1", hostPort: 0 },
        { proto: "udp", containerPort: 9999, hostIp: "127.0.0.1", hostPort: 0 },
      ],
    });
    console.log(`attach netns to a new bridge (bridge + veth + addr + route + nft): ${(performance.now() - t0).toFixed(1)} ms`);
    const t1b = performance.now();
    const b = await m.connect(t1.name, { containerId: "b".repeat(64), name: "client", netns: { path: `/run/netns/${ns("b")}` } });
    console.log(`attach netns to an existing bridge (veth + addr + route): ${(performance.now() - t1b).toFixed(1)} ms`);
    const c = await m.connect(t2.name, { containerId: "c".repeat(64), name: "other", netns: { path: `/run/netns/${ns("c")}` } });
    await m.connect(ti.name, { containerId: "d".repeat(64), name: "inside", netns: { path: `/run/netns/${ns("d")}` } });

    expect(a.ipAddress).not.toBe(b.ipAddress);
    expect(a.macAddress).toMatch(/^02:42:/);
    expect(inNs("a", ["ip", "-o", "addr", "show", "eth0"]).stdout).toContain(`${a.ipAddress}/${a.prefixLen}`);
    expect(inNs("b", ["ip", "route"]).stdout).toContain(`default via ${t1.gateway}`);
    expect(inNs("d", ["ip", "route"]).stdout).not.toContain("default");

    const httpd = spawn("ip", ["netns", "exec", ns("a"), "busybox", "httpd", "-f", "-p", "80", "-h", dir], { stdio: "ignore" });
    procs.push(httpd);
    const got = await until("wget from b", () => {
      const r = inNs("b", ["busybox", "wget", "-q", "-O", "-", `http://${a.ipAddress}/index.html`]);
      return r.status === 0 && r.stdout;
    });
    expect(got).toBe("hello from a\n");

    await m.dnsReady(t1.name);
    for (const name of ["web", "webalias", "a".repeat(12)]) {
      const r = await inNsAsync("b", ["busybox", "nslookup", name, t1.gateway]);
      expect(r.stdout).toContain(a.ipAddress);
    }

    const blocked = inNs("c", ["busybox", "wget", "-q", "-O", "-", `http://${a.ipAddress}/index.html`]);
    expect(blocked.status).not.toBe(0);
    expect(c.ipAddress).not.toBe(a.ipAddress);

    const tcp = m.portsOf("a".repeat(64)).find((p) => p.proto === "tcp");
    const udp = m.portsOf("a".repeat(64)).find((p) => p.proto === "udp");
    expect(tcp).toMatchObject({ proto: "tcp", hostIp: "127.0.0.1", containerPort: 80, containerIp: a.ipAddress });
    const body = await until("fetch via 127.0.0.1", async () => (await fetch(`http://127.0.0.1:${tcp!.hostPort}/index.html`)).text());
    expect(body).toBe("hello from a\n");

    // Debian's busybox nc has no -u, so the UDP peer in the netns is a tiny bun echo server.
    const echo = spawn("ip", ["netns", "exec", ns("a"), process.execPath, "-e",
      `const s=require("dgram").createSocket("udp4");s.on("message",(m,r)=>s.send("pong:"+m,r.port,r.address));s.bind(9999)`], { stdio: "ignore" });
    procs.push(echo);
    let heard = "";
    const sock = createSocket("udp4");
    sock.on("message", (d) => (heard += d.toString()));
    try {
      await until("udp reply through the published port", () => {
        sock.send("ping-udp", udp!.hostPort, "127.0.0.1");
        return heard.includes("pong:ping-udp");
      });
    } finally {
      sock.close();
    }
    echo.kill("SIGKILL");
    httpd.kill("SIGKILL");

    // Removal: nothing of ours is left behind.
    expect(m.remove(t1.name)).rejects.toThrow(/active endpoints/);
    for (const id of ["a", "b", "c", "d"]) await m.disconnectAll(id.repeat(64));
    for (const n of [t1, t2, ti]) await m.remove(n.id);
    const links = sh(["ip", "-o", "link"]).stdout;
    for (const n of [t1, t2, ti]) expect(links).not.toContain(n.bridge);
    for (const e of [a, b, c]) expect(links).not.toContain(e.endpointId.slice(0, 7));
    const rules = sh(["nft", "list", "table", "ip", TABLE]).stdout;
    expect(rules).not.toContain("dnat");
    expect(rules).not.toContain("br-");
    expect(db.query("SELECT count(*) AS n FROM ip_leases").get()).toEqual({ n: 0 });
    expect(db.query("SELECT count(*) AS n FROM port_maps").get()).toEqual({ n: 0 });
  }, 60_000);

  test("after a daemon restart, reconcile drops what dead containers held and leases are not handed out twice", async () => {
    const net = await m.create({ name: `tr-${tag}` });
    const f = await m.connect(net.name, { containerId: "f".repeat(64), name: "f", netns: { path: `/run/netns/${ns("f")}` }, ports: [{ proto: "tcp", containerPort: 80, hostIp: "127.0.0.1", hostPort: 0 }] });
    const hostVeth = db.query<{ host_veth: string }, [string]>("SELECT host_veth FROM endpoints WHERE container_id = ?").get("f".repeat(64))!.host_veth;
    await m.close();

    // A new daemon: the old lease is still held while the container runs...
    m = new NetworkManager(opts());
    await m.reconcile((id) => id === "f".repeat(64));
    expect(sh(["ip", "-o", "link"]).stdout).toContain(hostVeth);
    expect(sh(["nft", "list", "table", "ip", TABLE]).stdout).toContain(`dnat to ${f.ipAddress}:80`);
    await expect(m.connect(net.name, { containerId: "e".repeat(64), name: "e", netns: { path: `/run/netns/${ns("b")}` }, ip: f.ipAddress })).rejects.toThrow(/in use/);
    await m.close();

    // ...and released once it is gone.
    m = new NetworkManager(opts());
    const r = await m.reconcile(() => false);
    expect(r.removedEndpoints).toBe(1);
    expect(sh(["ip", "-o", "link"]).stdout).not.toContain(hostVeth);
    // (The network itself keeps its bridge and masquerade rules, as dockerd restores every bridge at start.)
    expect(sh(["nft", "list", "table", "ip", TABLE]).stdout).not.toContain("dnat to");
    expect(db.query("SELECT count(*) AS n FROM ip_leases").get()).toEqual({ n: 0 });
    await m.remove(net.name);
  }, 30_000);
});
