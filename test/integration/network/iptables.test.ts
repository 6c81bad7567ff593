// The iptables firewall backend (hosts without nft): a published port answers
// from the host through our chains, and rm leaves no rule behind.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { isRoot, run, startDaemon, until, type TestDaemon } from "../../helpers/daemon.ts";
import { haveRegistry, seedBusybox, startRegistry, type RunningRegistry } from "../../helpers/registry.ts";
import { chainNames, iptablesAvailable, iptablesFirewallFor, renderIptables } from "../../../src/engine/network/iptables.ts";
import { tableForBridge } from "../../../src/engine/network/nft.ts";

setDefaultTimeout(60_000);

describe("iptables rules", () => {
  test("render DNAT, masquerade and isolation in chains of our own", () => {
    const r = renderIptables(
      {
        networks: [{ bridge: "ctr0", subnet: "172.17.0.0/16", internal: false }, { bridge: "br-1", subnet: "172.18.0.0/16", internal: true }],
        ports: [{ containerId: "c".repeat(64), endpointId: "e", proto: "tcp", hostIp: "127.0.0.1", hostPort: 8080, containerIp: "172.17.0.2", containerPort: 80 }],
      },
      "ctr",
    );
    const c = chainNames("ctr");
    expect(r.nat).toContain(`:${c.publish} - [0:0]`);
    expect(r.nat).toContain(`-A ${c.publish} -d 127.0.0.1/32 -p tcp -m tcp --dport 8080 -m comment --comment ctr:cccccccccccc -j DNAT --to-destination 172.17.0.2:80`);
    expect(r.nat).toContain(`-A ${c.post} -s 172.17.0.0/16 ! -o ctr0 -j MASQUERADE`);
    expect(r.nat).not.toContain("-s 172.18.0.0/16 ! -o br-1");
    expect(r.filter).toContain(`-A ${c.forward} -i br-1 ! -o br-1 -j REJECT`);
    expect(r.filter).toContain(`-A ${c.forward} -i ctr0 -o br-1 -j REJECT`);
  });
});

const ready = isRoot && haveRegistry && iptablesAvailable();
if (!isRoot) console.warn("skip: networking needs root");
else if (!haveRegistry) console.warn("skip: docker-registry is not installed");
else if (!iptablesAvailable()) console.warn("skip: iptables is not installed");

describe.skipIf(!ready)("a daemon with --firewall iptables", () => {
  let reg: RunningRegistry;
  let bb: string;
  let d: TestDaemon;
  // iptables (nft backend) creates the ip nat/filter tables on first use: drop them again if the test made them.
  let tablesBefore = "";
  beforeAll(async () => {
    tablesBefore = (await run(["nft", "list", "tables"])).stdout;
    reg = await startRegistry();
    bb = await seedBusybox(reg.host);
    d = await startDaemon(["--firewall", "iptables"]);
  });
  afterAll(async () => {
    await d?.ctr(["rm", "-f", "ipt"]);
    if (d) iptablesFirewallFor(tableForBridge(d.bridge)).clear();
    for (const t of ["nat", "filter"]) if (!tablesBefore.includes(`table ip ${t}\n`)) await run(["nft", "delete", "table", "ip", t]);
    await d?.[Symbol.asyncDispose]();
    await reg?.stop();
  });

  test("-p 127.0.0.1:PORT:80 answers from the host; rm removes the DNAT rule", async () => {
    const port = 35000 + (process.pid % 20000);
    const r = await d.ctr(["run", "-d", "--name", "ipt", "-p", `127.0.0.1:${port}:80`, bb, "sh", "-c", "mkdir -p /w && echo via-iptables > /w/index.html && exec httpd -f -p 80 -h /w"]);
    expect(r.code).toBe(0);
    const c = chainNames(tableForBridge(d.bridge));
    expect((await run(["iptables", "-t", "nat", "-S", c.publish])).stdout).toContain(`--dport ${port}`);
    const body = await until(async () => {
      try {
        return await (await fetch(`http://127.0.0.1:${port}/`)).text();
      } catch {
        return "";
      }
    }, "published port via iptables", 20_000);
    expect(body).toBe("via-iptables\n");
    expect((await d.ctr(["rm", "-f", "ipt"])).code).toBe(0);
    expect((await run(["iptables", "-t", "nat", "-S", c.publish])).stdout).not.toContain(`--dport ${port}`);
  });
});
