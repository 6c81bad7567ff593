// ctr's networking on a box where Docker runs too: dockerd (Debian's 20.10,
// on its own socket and bridge, with its iptables rules) leaves the FORWARD
// policy at DROP with br_netfilter on, which cuts off every bridge that is not
// Docker's. Containers on ctr's bridges must still reach each other, and a
// published port must answer a client on another host — here a netns the test
// made, behind a veth pair (traffic only to 127/8 and test-made namespaces).
// The host's firewall state is put back afterwards, even on failure.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { run, startDaemon, until, type TestDaemon } from "../../helpers/daemon.ts";
import { dockerdSkipReason, startDockerd, type TestDockerd } from "../../helpers/dockerd.ts";
import { haveRegistry, seedBusybox, startRegistry, type RunningRegistry } from "../../helpers/registry.ts";
import { snapshotHostFirewall, type HostFirewallSnapshot } from "../../helpers/host-firewall.ts";
import { acceptChain } from "../../../src/engine/network/forward-openings.ts";
import { tableForBridge } from "../../../src/engine/network/nft.ts";
import { iptablesAvailable } from "../../../src/engine/network/iptables.ts";

setDefaultTimeout(300_000);

const reason = dockerdSkipReason ?? (!haveRegistry ? "docker-registry is not installed" : !iptablesAvailable() ? "iptables is not installed" : undefined);
if (reason) console.warn(`skip: networking beside Docker: ${reason}`);

const HTTPD = "mkdir -p /www && echo hello-from-$(hostname) > /www/index.html && exec httpd -f -p 80 -h /www";
const sh = (args: string[]) => Bun.spawnSync(args, { stderr: "pipe" });

describe.skipIf(!!reason)("networking beside Docker (FORWARD policy DROP, br_netfilter)", () => {
  let reg: RunningRegistry;
  let bb: string;
  let dockerd: TestDockerd | undefined;
  let d: TestDaemon | undefined;
  let host: HostFirewallSnapshot | undefined;
  const tag = String(process.pid % 1000);
  const ns = `ctrdk${tag}`;
  const vethHost = `vdk${tag}h`;
  const vethNs = `vdk${tag}n`;
  const octet = process.pid % 250;
  const hostAddr = `10.251.${octet}.1`;
  const nsAddr = `10.251.${octet}.2`;
  const net = `dk-net-${tag}`;
  const ctr = (args: string[]) => d!.ctr(args);
  let dropTable = "";

  beforeAll(async () => {
    host = await snapshotHostFirewall();
    reg = await startRegistry();
    bb = await seedBusybox(reg.host);
    dockerd = await startDockerd({ iptables: true });
    // dockerd sets DROP only when it had to turn ip_forward on itself; on a box
    // where forwarding was already on, the test sets what a fresh box gets.
    sh(["iptables", "-P", "FORWARD", "DROP"]);
    Bun.write("/proc/sys/net/bridge/bridge-nf-call-iptables", "1");
    expect((await run(["iptables", "-S", "FORWARD"])).stdout).toContain("-P FORWARD DROP");
    expect((await run(["iptables", "-S", "DOCKER-USER"])).code).toBe(0);
    // The "other host": a netns behind a veth pair, the host's side addressed.
    for (const args of [
      ["ip", "netns", "add", ns],
      ["ip", "link", "add", vethHost, "type", "veth", "peer", "name", vethNs],
      ["ip", "link", "set", vethNs, "netns", ns],
      ["ip", "addr", "add", `${hostAddr}/30`, "dev", vethHost],
      ["ip", "link", "set", vethHost, "up"],
      ["ip", "-n", ns, "addr", "add", `${nsAddr}/30`, "dev", vethNs],
      ["ip", "-n", ns, "link", "set", vethNs, "up"],
      ["ip", "-n", ns, "link", "set", "lo", "up"],
    ]) expect(sh(args).exitCode).toBe(0);
    d = await startDaemon();
    expect((await ctr(["pull", "-q", bb])).code).toBe(0);
  });

  afterAll(async () => {
    try {
      for (const c of ["dk-web", "dk-pub", "dk-web2"]) await d?.ctr(["rm", "-f", c]);
      await d?.ctr(["network", "rm", net, `${net}-2`]);
      await d?.[Symbol.asyncDispose]();
      await dockerd?.[Symbol.asyncDispose]();
      await reg?.stop();
    } finally {
      sh(["ip", "link", "del", vethHost]);
      sh(["ip", "netns", "del", ns]);
      if (dropTable) sh(["nft", "delete", "table", "inet", dropTable]);
      host?.restore(dockerd?.bridge ?? "");
    }
  });

  test("containers on a ctr bridge reach each other; the opening sits in DOCKER-USER", async () => {
    expect((await ctr(["network", "create", net])).code).toBe(0);
    expect((await ctr(["run", "-d", "--name", "dk-web", "--network", net, bb, "sh", "-c", HTTPD])).code).toBe(0);
    const get = "set -o pipefail; printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 dk-web 80 | tail -1";
    const fetch = () => ctr(["run", "--rm", "--network", net, bb, "sh", "-c", get]);
    const body = await until(async () => (await fetch()).stdout, "dk-web to answer across the ctr bridge", 20_000).catch(async (e) => {
      throw new Error(`${(e as Error).message}; last: ${JSON.stringify(await fetch())}\n${(await run(["iptables", "-S"])).stdout}`);
    });
    expect(body).toMatch(/^hello-from-/);
    const acc = acceptChain(tableForBridge(d!.bridge));
    expect((await run(["iptables", "-S", "DOCKER-USER"])).stdout).toContain(`-A DOCKER-USER -j ${acc}`);
  });

  test("a published port answers a client on another host (a netns via the host's veth address)", async () => {
    // A free host port chosen by the daemon: tests side by side must not pick the same one.
    const started = await ctr(["run", "-d", "--name", "dk-pub", "-p", "80", bb, "sh", "-c", HTTPD]);
    expect(started.stderr).toBe("");
    const port = Number((await ctr(["port", "dk-pub", "80"])).stdout.trim().split(":").at(-1));
    expect(port).toBeGreaterThan(0);
    const curl = () => run(["ip", "netns", "exec", ns, "curl", "-s", "--max-time", "3", `http://${hostAddr}:${port}/`]);
    const body = await until(async () => (await curl()).stdout, "published port from the netns", 20_000);
    expect(body).toMatch(/^hello-from-/);
  });

  test("a drop-policy forward chain of another nft table gets our accepts too", async () => {
    const t = `ctrtestfw${tag}`;
    dropTable = t;
    expect(sh(["nft", `add table inet ${t}; add chain inet ${t} forward { type filter hook forward priority 0; policy drop; }`]).exitCode).toBe(0);
    // The openings follow the firewall state: a new network rewrites it.
    expect((await ctr(["network", "create", `${net}-2`])).code).toBe(0);
    expect((await ctr(["run", "-d", "--name", "dk-web2", "--network", `${net}-2`, "--network-alias", "web2", bb, "sh", "-c", HTTPD])).code).toBe(0);
    expect((await run(["nft", "list", "chain", "inet", t, "forward"])).stdout).toContain("ct status dnat accept");
    const get = "set -o pipefail; printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 web2 80 | tail -1";
    const body = await until(async () => (await ctr(["run", "--rm", "--network", `${net}-2`, bb, "sh", "-c", get])).stdout, "web2 to answer through the drop table", 20_000);
    expect(body).toMatch(/^hello-from-/);
    expect((await ctr(["rm", "-f", "dk-web2"])).code).toBe(0);
    expect((await ctr(["network", "rm", `${net}-2`])).code).toBe(0);
  });

  test("openings go with their bridges", async () => {
    const acc = acceptChain(tableForBridge(d!.bridge));
    const bridge = `br-${(JSON.parse((await ctr(["network", "inspect", net])).stdout) as { Id: string }[])[0]!.Id.slice(0, 12)}`;
    expect((await run(["iptables", "-S", acc])).stdout).toContain(`-i ${bridge} -j ACCEPT`);
    expect((await ctr(["rm", "-f", "dk-web", "dk-pub"])).code).toBe(0);
    expect((await ctr(["network", "rm", net])).code).toBe(0);
    const after = (await run(["iptables", "-S", acc])).stdout;
    expect(after).not.toContain(bridge);
    expect(after).toContain(`-i ${d!.bridge} -j ACCEPT`);
    const table = (await run(["nft", "list", "chain", "inet", dropTable, "forward"])).stdout;
    expect(table).not.toContain(bridge);
    expect(table).toContain(`iifname "${d!.bridge}" accept`);
    // The daemon's dispose (its default bridge goes) takes the rest.
    await d![Symbol.asyncDispose]();
    expect((await run(["iptables", "-S"])).stdout).not.toContain(acc);
    // Only this daemon's: other daemons on the host (tests side by side) open the table for their bridges too.
    expect((await run(["nft", "list", "chain", "inet", dropTable, "forward"])).stdout).not.toContain(`"${tableForBridge(d!.bridge)}:`);
    d = undefined;
  });
});
