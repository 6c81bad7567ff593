// ctr's networking on a box where Docker runs too: dockerd (Debian's 20.10,
// with its iptables rules) leaves the FORWARD policy at DROP with br_netfilter
// on, which cuts off every bridge that is not Docker's. Containers on ctr's
// bridges must still reach each other, and a published port must answer a
// client on another host.
//
// The "box" is a network namespace the test made: dockerd and ctr's daemon run
// in it (`ip netns exec`), so FORWARD DROP, DOCKER-USER and every rule stay in
// there and never touch the host or tests running beside this one; deleting
// the namespace takes all of it away, even after a failure. The "other host"
// is a second namespace behind a veth pair. Traffic only within them.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CLI, run, startDaemon, until, type TestDaemon } from "../../helpers/daemon.ts";
import { dockerdSkipReason, inNetns, startDockerd, type TestDockerd } from "../../helpers/dockerd.ts";
import { acceptChain } from "../../../src/engine/network/forward-openings.ts";
import { tableForBridge } from "../../../src/engine/network/nft.ts";
import { iptablesAvailable } from "../../../src/engine/network/iptables.ts";
import { busyboxEntries, haveBusybox } from "../../../scripts/fixtures/images.ts";
import { layerTar } from "../../../scripts/fixtures/oci.ts";

setDefaultTimeout(120_000);

const reason = dockerdSkipReason ?? (!iptablesAvailable() ? "iptables is not installed" : !haveBusybox ? "busybox-static is not installed" : undefined);
if (reason) console.warn(`skip: networking beside Docker: ${reason}`);

const HTTPD = "mkdir -p /www && echo hello-from-$(hostname) > /www/index.html && exec httpd -f -p 80 -h /www";
const sh = (args: string[]) => Bun.spawnSync(args, { stderr: "pipe" });

describe.skipIf(!!reason)("networking beside Docker (FORWARD policy DROP, br_netfilter)", () => {
  let dockerd: TestDockerd | undefined;
  let d: TestDaemon | undefined;
  const tag = String(process.pid % 1000);
  const box = `ctrbox${tag}`;
  const other = `ctrpeer${tag}`;
  const vethBox = `vdk${tag}b`;
  const vethPeer = `vdk${tag}p`;
  const boxAddr = "10.251.0.1";
  const peerAddr = "10.251.0.2";
  const net = `dk-net-${tag}`;
  const img = "bbx:1";
  const dropTable = `ctrtestfw${tag}`;
  const wrapDir = mkdtempSync(join(tmpdir(), "ctr-box-"));
  const ctr = (args: string[]) => d!.ctr(args);
  const inBox = (args: string[]) => run(["ip", "netns", "exec", box, ...args]);

  beforeAll(async () => {
    for (const args of [
      ["ip", "netns", "add", box],
      ["ip", "netns", "add", other],
      ["ip", "-n", box, "link", "set", "lo", "up"],
      ["ip", "-n", other, "link", "set", "lo", "up"],
      ["ip", "-n", box, "link", "add", vethBox, "type", "veth", "peer", "name", vethPeer, "netns", other],
      ["ip", "-n", box, "addr", "add", `${boxAddr}/30`, "dev", vethBox],
      ["ip", "-n", box, "link", "set", vethBox, "up"],
      ["ip", "-n", other, "addr", "add", `${peerAddr}/30`, "dev", vethPeer],
      ["ip", "-n", other, "link", "set", vethPeer, "up"],
    ]) expect(sh(args).stderr.toString()).toBe("");
    dockerd = await startDockerd({ iptables: true, netns: box });
    // dockerd sets DROP only when it had to turn ip_forward on itself: set what a fresh box gets.
    expect((await inBox(["iptables", "-P", "FORWARD", "DROP"])).code).toBe(0);
    expect((await inBox(["sysctl", "-qw", "net.bridge.bridge-nf-call-iptables=1"])).code).toBe(0);
    expect((await inBox(["iptables", "-S", "FORWARD"])).stdout).toContain("-P FORWARD DROP");
    expect((await inBox(["iptables", "-S", "DOCKER-USER"])).code).toBe(0);
    // ctr's daemon in the box too: a wrapper as its binary.
    const wrapper = join(wrapDir, "ctr-in-box");
    writeFileSync(wrapper, `#!/bin/sh\nexec ${inNetns(box).map((a) => `'${a}'`).join(" ")} ${process.execPath} ${CLI} "$@"\n`);
    chmodSync(wrapper, 0o755);
    d = await startDaemon([], undefined, { bin: wrapper });
    // No registry in the box: the image comes from a rootfs tar.
    const imported = await d.ctr(["import", "-", img], { stdin: await layerTar(busyboxEntries()) });
    expect(imported.stderr).toBe("");
  });

  afterAll(async () => {
    try {
      for (const c of ["dk-web", "dk-pub", "dk-web2"]) await d?.ctr(["rm", "-f", c]);
      await d?.[Symbol.asyncDispose]();
      await dockerd?.[Symbol.asyncDispose]();
    } finally {
      sh(["ip", "netns", "del", box]);
      sh(["ip", "netns", "del", other]);
      rmSync(wrapDir, { recursive: true, force: true });
    }
  });

  test("containers on a ctr bridge reach each other; the opening sits in DOCKER-USER", async () => {
    expect((await ctr(["network", "create", net])).code).toBe(0);
    expect((await ctr(["run", "-d", "--name", "dk-web", "--network", net, img, "sh", "-c", HTTPD])).code).toBe(0);
    const get = "set -o pipefail; printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 dk-web 80 | tail -1";
    const fetch = () => ctr(["run", "--rm", "--network", net, img, "sh", "-c", get]);
    const body = await until(async () => (await fetch()).stdout, "dk-web to answer across the ctr bridge", 20_000).catch(async (e) => {
      throw new Error(`${(e as Error).message}; last: ${JSON.stringify(await fetch())}\n${(await inBox(["iptables", "-S"])).stdout}`);
    });
    expect(body).toMatch(/^hello-from-/);
    const acc = acceptChain(tableForBridge(d!.bridge));
    expect((await inBox(["iptables", "-S", "DOCKER-USER"])).stdout).toContain(`-A DOCKER-USER -j ${acc}`);
  });

  test("a published port answers a client on another host (a netns, through the box's veth address)", async () => {
    const started = await ctr(["run", "-d", "--name", "dk-pub", "-p", "80", img, "sh", "-c", HTTPD]);
    expect(started.stderr).toBe("");
    const port = Number((await ctr(["port", "dk-pub", "80"])).stdout.trim().split(":").at(-1));
    expect(port).toBeGreaterThan(0);
    const curl = () => run(["ip", "netns", "exec", other, "curl", "-s", "--max-time", "3", `http://${boxAddr}:${port}/`]);
    const body = await until(async () => (await curl()).stdout, "published port from the other netns", 20_000);
    expect(body).toMatch(/^hello-from-/);
  });

  test("a drop-policy forward chain of another nft table gets our accepts too", async () => {
    expect((await inBox(["nft", `add table inet ${dropTable}; add chain inet ${dropTable} forward { type filter hook forward priority 0; policy drop; }`])).code).toBe(0);
    // The openings follow the firewall state: a new network rewrites it.
    expect((await ctr(["network", "create", `${net}-2`])).code).toBe(0);
    expect((await ctr(["run", "-d", "--name", "dk-web2", "--network", `${net}-2`, "--network-alias", "web2", img, "sh", "-c", HTTPD])).code).toBe(0);
    expect((await inBox(["nft", "list", "chain", "inet", dropTable, "forward"])).stdout).toContain("ct status dnat accept");
    const get = "set -o pipefail; printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 web2 80 | tail -1";
    const body = await until(async () => (await ctr(["run", "--rm", "--network", `${net}-2`, img, "sh", "-c", get])).stdout, "web2 to answer through the drop table", 20_000);
    expect(body).toMatch(/^hello-from-/);
    expect((await ctr(["rm", "-f", "dk-web2"])).code).toBe(0);
    expect((await ctr(["network", "rm", `${net}-2`])).code).toBe(0);
  });

  test("openings go with their bridges", async () => {
    const acc = acceptChain(tableForBridge(d!.bridge));
    const bridge = `br-${(JSON.parse((await ctr(["network", "inspect", net])).stdout) as { Id: string }[])[0]!.Id.slice(0, 12)}`;
    expect((await inBox(["iptables", "-S", acc])).stdout).toContain(`-i ${bridge} -j ACCEPT`);
    expect((await ctr(["rm", "-f", "dk-web", "dk-pub"])).code).toBe(0);
    expect((await ctr(["network", "rm", net])).code).toBe(0);
    const after = (await inBox(["iptables", "-S", acc])).stdout;
    expect(after).not.toContain(bridge);
    expect(after).toContain(`-i ${d!.bridge} -j ACCEPT`);
    const table = (await inBox(["nft", "list", "chain", "inet", dropTable, "forward"])).stdout;
    expect(table).not.toContain(bridge);
    expect(table).toContain(`iifname "${d!.bridge}" accept`);
  });
});
