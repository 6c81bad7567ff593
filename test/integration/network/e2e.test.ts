// Networking end to end through ctr: user networks with names and aliases,
// isolation, published ports reached from the host, the network modes, and
// no leaks after rm. Traffic goes only to 127.0.0.1 and to our containers.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { hasDocker, isRoot, run, startDaemon, until, type TestDaemon, removeAllContainers } from "../../helpers/daemon.ts";
import { haveRegistry, seedBusybox, startRegistry, type RunningRegistry } from "../../helpers/registry.ts";
import { tableForBridge } from "../../../src/engine/network/nft.ts";

setDefaultTimeout(60_000);

const ready = isRoot && haveRegistry;
if (!isRoot) console.warn("skip: networking needs root");
else if (!haveRegistry) console.warn("skip: docker-registry is not installed");

const HTTPD = "mkdir -p /www && echo hello-from-$(hostname) > /www/index.html && exec httpd -f -p 80 -h /www";

describe.skipIf(!ready)("networking through ctr", () => {
  let reg: RunningRegistry;
  let bb: string;
  let d: TestDaemon;
  const tag = String(process.pid % 100000);
  const net1 = `e2e-a-${tag}`;
  const net2 = `e2e-b-${tag}`;
  const ctr = (args: string[]) => d.ctr(args);
  const inspect = async (name: string, fmt: string) => (await ctr(["inspect", "-f", fmt, name])).stdout.trim();
  const ipOn = async (name: string, net: string) => JSON.parse(await inspect(name, "{{json .NetworkSettings.Networks}}"))[net].IPAddress as string;

  beforeAll(async () => {
    reg = await startRegistry();
    bb = await seedBusybox(reg.host);
    d = await startDaemon();
    expect((await ctr(["pull", "-q", bb])).code).toBe(0);
  });
  afterAll(async () => {
    await removeAllContainers(d);
    await d?.ctr(["network", "rm", net1, net2, `${net1}-int`]);
    await d?.[Symbol.asyncDispose]();
    await reg?.stop();
  });

  test("containers on a user network reach each other by name and alias; another network cannot", async () => {
    expect((await ctr(["network", "create", net1])).code).toBe(0);
    expect((await ctr(["network", "create", net2])).code).toBe(0);
    expect((await ctr(["run", "-d", "--name", "web", "--network", net1, "--network-alias", "www", bb, "sh", "-c", HTTPD])).code).toBe(0);
    // busybox-static's wget crashes on glibc's static resolver; nc with an HTTP/1.0 request does the same job.
    const get = (host: string) => `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 ${host} 80 | tail -1`;
    const fetch = (net: string, host: string) => ctr(["run", "--rm", "--network", net, bb, "sh", "-c", `set -o pipefail; ${get(host)}`]);
    await until(async () => (await fetch(net1, "web")).stdout.startsWith("hello-from-"), "web to answer by name", 20_000);
    expect((await fetch(net1, "web")).stdout).toMatch(/^hello-from-/);
    expect((await fetch(net1, "www")).stdout).toMatch(/^hello-from-/);
    const ip = await ipOn("web", net1);
    expect(ip).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    const other = await fetch(net2, ip);
    expect(other.stdout).not.toContain("hello-from-");
  });

  test("/etc/hosts names the container's address; network connect/disconnect on a running container follow", async () => {
    const ip1 = await ipOn("web", net1);
    expect((await ctr(["exec", "web", "cat", "/etc/hosts"])).stdout).toMatch(new RegExp(`^${ip1.replace(/\./g, "\\.")}\\s`, "m"));
    expect((await ctr(["network", "connect", net2, "web"])).code).toBe(0);
    const ip2 = await ipOn("web", net2);
    expect(ip2).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect((await ctr(["exec", "web", "ls", "/sys/class/net"])).stdout.split("\n")).toContain("eth1");
    expect((await ctr(["exec", "web", "cat", "/etc/hosts"])).stdout).toContain(ip2);
    // Now reachable from the second network too, by name.
    const from2 = await ctr(["run", "--rm", "--network", net2, bb, "sh", "-c", "printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 web 80 | tail -1"]);
    expect(from2.stdout).toMatch(/^hello-from-/);
    expect((await ctr(["network", "disconnect", net2, "web"])).code).toBe(0);
    expect((await ctr(["exec", "web", "ls", "/sys/class/net"])).stdout.split("\n")).not.toContain("eth1");
    expect((await ctr(["exec", "web", "cat", "/etc/hosts"])).stdout).not.toContain(ip2);
    expect(Object.keys(JSON.parse(await inspect("web", "{{json .NetworkSettings.Networks}}")))).toEqual([net1]);
  });

  test("--internal has no default route", async () => {
    expect((await ctr(["network", "create", "--internal", `${net1}-int`])).code).toBe(0);
    const r = await ctr(["run", "--rm", "--network", `${net1}-int`, bb, "ip", "route"]);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain("default");
  });

  test("-p 127.0.0.1:PORT:80 reaches httpd from the host; -p 80 picks a port that ctr port reports", async () => {
    const port = 20000 + (process.pid % 20000);
    expect((await ctr(["run", "-d", "--name", "pub", "-p", `127.0.0.1:${port}:80`, "-p", "80", bb, "sh", "-c", HTTPD])).code).toBe(0);
    const body = await until(async () => {
      try {
        return await (await fetch(`http://127.0.0.1:${port}/`)).text();
      } catch {
        return "";
      }
    }, "published port to answer", 20_000);
    expect(body).toMatch(/^hello-from-/);
    const ports = (await ctr(["port", "pub"])).stdout;
    expect(ports).toContain(`80/tcp -> 127.0.0.1:${port}`);
    const random = /80\/tcp -> 0\.0\.0\.0:(\d+)/.exec(ports);
    expect(random).not.toBeNull();
    const r = await until(async () => {
      try {
        return await (await fetch(`http://127.0.0.1:${random![1]}/`)).text();
      } catch {
        return "";
      }
    }, "random port to answer", 20_000);
    expect(r).toMatch(/^hello-from-/);
  });

  // UDP publishing is proven in bridge.test.ts (a real netns echo behind the same nft rules): the busybox
  // test image has no UDP server applet.
  test("-P publishes the exposed ports on free host ports", async () => {
    expect((await ctr(["run", "-d", "--name", "allp", "--expose", "8080", "-P", bb, "sleep", "100"])).code).toBe(0);
    expect((await ctr(["port", "allp"])).stdout).toMatch(/^8080\/tcp -> 0\.0\.0\.0:\d+$/m);
    await ctr(["rm", "-f", "allp"]);
  });

  test.skipIf(!hasDocker)("docker network create/ls/inspect/rm, run -p and port through our socket", async () => {
    const name = `dnet-${tag}`;
    const id = (await d.docker(["network", "create", "--subnet", "10.201.7.0/24", name])).stdout.trim();
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    const ls = await d.docker(["network", "ls"]);
    expect(ls.stdout).toMatch(/^NETWORK ID\s+NAME\s+DRIVER\s+SCOPE\n/);
    expect(ls.stdout).toMatch(new RegExp(`${id.slice(0, 12)}\\s+${name}\\s+bridge\\s+local`));
    const info = JSON.parse((await d.docker(["network", "inspect", name])).stdout)[0];
    expect(info).toMatchObject({ Name: name, Driver: "bridge", IPAM: { Config: [{ Subnet: "10.201.7.0/24" }] } });
    const port = 25000 + (process.pid % 20000);
    expect((await d.docker(["run", "-d", "--name", "dweb", "--network", name, "-p", `127.0.0.1:${port}:80`, bb, "sh", "-c", HTTPD])).code).toBe(0);
    expect((await d.docker(["port", "dweb"])).stdout).toBe(`80/tcp -> 127.0.0.1:${port}\n`);
    const body = await until(async () => {
      try {
        return await (await fetch(`http://127.0.0.1:${port}/`)).text();
      } catch {
        return "";
      }
    }, "docker run -p to answer", 20_000);
    expect(body).toMatch(/^hello-from-/);
    expect((await d.docker(["rm", "-f", "dweb"])).code).toBe(0);
    expect((await d.docker(["network", "rm", name])).stdout).toBe(`${name}\n`);
  });

  test("--network none has only lo; host sees the host's links; container: shares a netns", async () => {
    expect((await ctr(["run", "--rm", "--network", "none", bb, "ls", "/sys/class/net"])).stdout.trim()).toBe("lo");
    // The host's links come and go while other tests run beside this one: look for this daemon's bridge and the
    // host's first links (lo, the uplink), which only the host's netns has.
    const hostLinks = (await run(["ls", "/sys/class/net"])).stdout.trim().split("\n");
    const seen = (await ctr(["run", "--rm", "--network", "host", bb, "ls", "/sys/class/net"])).stdout.trim().split("\n");
    expect(seen).toContain(d.bridge);
    expect(seen.filter((l) => !/^(veth|vdk|br-|ctrt|dkt)/.test(l))).toEqual(hostLinks.filter((l) => !/^(veth|vdk|br-|ctrt|dkt)/.test(l)));
    const webIp = await ipOn("web", net1);
    expect(webIp).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    const shared = await ctr(["run", "--rm", "--network", "container:web", bb, "ip", "-o", "-4", "addr"]);
    expect(shared.stdout).toContain(webIp);
  });

  test("--dns, --add-host and --hostname land in the container's files", async () => {
    const r = await ctr(["run", "--rm", "--dns", "10.9.9.9", "--add-host", "db.local:10.1.2.3", "--hostname", "boxy", bb, "sh", "-c", "cat /etc/resolv.conf /etc/hosts; hostname"]);
    expect(r.stdout).toContain("nameserver 10.9.9.9");
    expect(r.stdout).toMatch(/10\.1\.2\.3\s+db\.local/);
    expect(r.stdout.trim().endsWith("boxy")).toBe(true);
  });

  test("kill -9 of the daemon, then restart: the dead container's veth, DNAT rule and lease are gone", async () => {
    const port = 30000 + (process.pid % 20000);
    expect((await ctr(["run", "-d", "--name", "crashy", "--network", net1, "-p", `127.0.0.1:${port}:80`, bb, "sleep", "1000"])).code).toBe(0);
    const table = tableForBridge(d.bridge);
    expect((await run(["nft", "list", "table", "ip", table])).stdout).toContain(`dport ${port}`);
    await d.kill9();
    d = await startDaemon([], { dir: d.dir });
    expect(await inspect("crashy", "{{.State.Status}}")).toBe("exited");
    expect((await run(["nft", "list", "table", "ip", table])).stdout).not.toContain(`dport ${port}`);
    const net = JSON.parse((await ctr(["network", "inspect", net1])).stdout)[0];
    expect(Object.keys(net.Containers ?? {})).not.toContain(await inspect("crashy", "{{.Id}}"));
    await ctr(["rm", "crashy"]);
  });

  test("after rm nothing is left: no veth, no DNAT rule, no lease", async () => {
    // Only this daemon's bridges: other daemons on the host (tests side by side) have veths of their own.
    const bridges = [d.bridge, ...(await Promise.all([net1, net2].map(async (n) => `br-${JSON.parse((await ctr(["network", "inspect", n])).stdout)[0].Id.slice(0, 12)}`)))];
    const veths = async () => (await Promise.all(bridges.map(async (b) => (await run(["ip", "-o", "link", "show", "type", "veth", "master", b])).stdout.split("\n").filter(Boolean).length))).reduce((a, b) => a + b, 0);
    expect((await ctr(["rm", "-f", "web", "pub"])).code).toBe(0);
    await until(async () => (await veths()) === 0, "veths to go", 10_000);
    const rules = (await run(["nft", "list", "table", "ip", tableForBridge(d.bridge)])).stdout;
    expect(rules).not.toContain("dnat to");
    const net = JSON.parse((await ctr(["network", "inspect", net1])).stdout)[0];
    expect(Object.keys(net.Containers ?? {})).toEqual([]);
    expect((await ctr(["network", "rm", net1, net2])).code).toBe(0);
  });
});
