// Networking through the docker CLI, differential: the same commands against
// Debian's dockerd and against ctr — network create/ls/inspect/connect/
// disconnect/rm/prune with options and filters, run --network/--network-alias/
// --ip, the embedded resolver (two networks, aliases of several containers,
// --dns as its upstream), legacy links, IPv6, MAC and link-local addresses,
// bridge names, and subnet choice beside another daemon. Answers are
// normalised; a difference not in intended-differences.ts fails.
//
// Network rule: every address used is on the daemons' own bridges or on a
// portless bridge this suite makes for its DNS server; nothing leaves the box.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { createSocket, type Socket } from "node:dgram";
import { hasDocker, run, startDaemon, type RunResult, type TestDaemon } from "../helpers/daemon.ts";
import { freePrefixes } from "../helpers/free-prefix.ts";
import { dockerdSkipReason, startDockerd, stopPeers, type TestDockerd } from "../helpers/dockerd.ts";
import { seedBusybox, startRegistry } from "../helpers/registry.ts";
import { differences, normalise } from "../helpers/normalise.ts";
import type { RunningRegistry } from "../helpers/registry.ts";
import { buildAnswer, parseQuery } from "../../src/engine/network/dns-msg.ts";
import { intended } from "./intended-differences.ts";

setDefaultTimeout(180_000);
const OLD_CLI = "/usr/bin/docker";
const skip = dockerdSkipReason ?? (hasDocker ? undefined : "needs the docker CLI");
if (skip) console.warn(`skip: differential networks: ${skip}`);

interface Target {
  name: "dockerd" | "ctr";
  host: string;
  /** A /16 of this daemon's own ("10.x"), so the two never share a route. */
  net: string;
  /** A v6 /64 prefix of its own ("fd00:ab:x:"). */
  net6: string;
  /** A bridge name of its own for `-o com.docker.network.bridge.name`. */
  bridge: string;
}

/** The suite's upstream DNS server: answers ext.test with 192.0.2.7 (a documentation address, never contacted), counts the queries. */
interface TestDns {
  ip: string;
  queries: () => number;
  close(): void;
}

async function startTestDns(): Promise<TestDns> {
  const dev = `ctrdns${process.pid % 10000}`;
  const ip = `10.253.${process.pid % 250}.53`;
  // A bridge without ports holding one host address: reachable from the daemons' containers through
  // their gateways and from the host, and nothing beyond (this kernel has no dummy devices).
  Bun.spawnSync(["ip", "link", "add", dev, "type", "bridge"]);
  Bun.spawnSync(["ip", "addr", "add", `${ip}/32`, "dev", dev]);
  Bun.spawnSync(["ip", "link", "set", dev, "up"]);
  let n = 0;
  const s: Socket = createSocket("udp4");
  s.on("message", (m, r) => {
    const query = new Uint8Array(m);
    const q = parseQuery(query);
    if (!q) return;
    if (q.name === "ext.test") n++;
    const ips = q.name === "ext.test" && q.type === 1 ? ["192.0.2.7"] : [];
    s.send(buildAnswer(query, q, ips, q.name === "ext.test" ? 0 : 3), r.port, r.address);
  });
  await new Promise<void>((res, rej) => {
    s.once("error", rej);
    s.bind(53, ip, () => res());
  });
  return {
    ip,
    queries: () => n,
    close: () => {
      s.close();
      Bun.spawnSync(["ip", "link", "del", dev], { stderr: "ignore" });
    },
  };
}

describe.skipIf(!!skip)("differential networks: docker CLI against dockerd and ctr", () => {
  let reg: RunningRegistry;
  let bb: string;
  let ctr: TestDaemon;
  let dkr: TestDockerd;
  let targets: Target[];
  let dns: TestDns;

  beforeAll(async () => {
    // Both daemons with --dns 127.0.0.1, so a name neither knows is forwarded to a loopback (nothing
    // answers there) and never to the host's resolvers (network rule).
    reg = await startRegistry();
    bb = await seedBusybox(reg.host);
    [ctr, dkr] = await Promise.all([startDaemon(["--dns", "127.0.0.1"]), startDockerd()]);
    const k = process.pid % 50;
    // /16s no host route touches: a bridge a killed run left on the same subnet would take the replies.
    const [dNet, cNet] = freePrefixes(2, 120 + k);
    targets = [
      { name: "dockerd", host: dkr.host, net: dNet!, net6: `fd00:ab:${k}:`, bridge: `ntd${process.pid % 100000}` },
      { name: "ctr", host: ctr.host, net: cNet!, net6: `fd00:ab:${k + 100}:`, bridge: `ntc${process.pid % 100000}` },
    ];
    dns = await startTestDns();
    await Promise.all(targets.map((t) => docker(t, ["pull", "-q", bb])));
  });
  afterAll(async () => {
    // Containers first, then networks (dockerd leaves user bridges behind otherwise).
    for (const t of targets ?? []) {
      const ids = (await docker(t, ["ps", "-aq"])).stdout.split("\n").filter(Boolean);
      if (ids.length) await docker(t, ["rm", "-f", ...ids]);
      await docker(t, ["network", "prune", "-f"]);
      Bun.spawnSync(["ip", "link", "del", t.bridge], { stderr: "ignore" });
    }
    dns?.close();
    await stopPeers({ reg, ctr, dkr });
  });

  const docker = (t: Target, args: string[], bin = "docker"): Promise<RunResult> => run([bin, "-H", t.host, ...args]);
  /** On both daemons, one after the other (two daemons choosing subnets at the same moment may pick the same one). */
  const both = async (args: (t: Target) => string[], bin?: string): Promise<RunResult[]> => {
    const out: RunResult[] = [];
    for (const t of targets) out.push(await docker(t, args(t), bin));
    return out;
  };
  const same = (step: string, outcomes: unknown[]) => {
    const [d, c] = outcomes.map((o, i) => norm(targets[i]!, o));
    const diff = differences(d, c).filter((p) => !intended(`networks/${step}/${p}`));
    for (const p of diff) found.push(`networks/${step}/${p}: dockerd ${JSON.stringify(at(d, p))} ctr ${JSON.stringify(at(c, p))}`);
    // The whole outcomes of a step that differs, for the one reading the failure.
    if (diff.length) console.error(`networks/${step}: dockerd ${JSON.stringify(d)}\nctr ${JSON.stringify(c)}`);
  };
  let found: string[] = [];
  const check = () => {
    const f = found;
    found = [];
    if (f.length) console.error(`ctr daemon log (end):\n${ctr.log().slice(-3000)}`);
    expect(f).toEqual([]);
  };
  const norm = (t: Target, v: unknown) =>
    normalise(v, { replace: { [t.net6]: "<net6>:", [`${t.net}.`]: "<net>.", [t.bridge]: "<bridge>", [bb]: "<busybox>" } });
  /** Exit code, stdout and stderr with lines sorted (the order of map entries and of DNS answers is not Docker's promise). */
  const lines = (r: RunResult) => ({ code: r.code, out: r.stdout.split("\n").filter(Boolean).sort(), err: r.stderr.trim() });
  const json = (r: RunResult) => (r.code ? { code: r.code, err: r.stderr.trim() } : JSON.parse(r.stdout));
  /** A network's inspect with Containers as a list by name (its keys are ids, all alike once normalised). */
  const netView = (n: Record<string, any>) => ({
    ...n,
    Containers: Object.values(n.Containers ?? {}).sort((a: any, b: any) => a.Name.localeCompare(b.Name)),
  });

  test("network create/ls/inspect/connect/disconnect/rm/prune with options and filters", async () => {
    same("cli/create", (await both((t) => ["network", "create", "--subnet", `${t.net}.1.0/24`, "--gateway", `${t.net}.1.254`, "--ip-range", `${t.net}.1.128/25`, "--label", "a=1", "--label", "b=2", "--attachable", "-o", `com.docker.network.bridge.name=${t.bridge}`, "n_a"])).map((r) => r.code));
    same("cli/create-internal", (await both((t) => ["network", "create", "--internal", "--subnet", `${t.net}.4.0/24`, "--label", "a=1", "n_b"])).map((r) => r.code));
    same("cli/create-v6", (await both((t) => ["network", "create", "--ipv6", "--subnet", `${t.net}.5.0/24`, "--subnet", `${t.net6}:/64`, "n_c"])).map((r) => r.code));
    same("cli/create-v6-no-pool", (await both(() => ["network", "create", "--ipv6", "n_d"])).map(lines));
    same("cli/create-twice", (await both(() => ["network", "create", "n_a"])).map(lines));
    // The bridge of a network exists from its creation, named as asked.
    same("cli/bridge-name", targets.map((t) => Bun.spawnSync(["ip", "-o", "link", "show", t.bridge]).exitCode));
    const ls = (f: string[]) => both(() => ["network", "ls", ...f.flatMap((x) => ["--filter", x]), "--format", "{{.Name}} {{.Driver}} {{.Scope}}"]);
    same("cli/ls-label", (await ls(["label=a=1"])).map(lines));
    same("cli/ls-labels-and", (await ls(["label=a=1", "label=b=2"])).map(lines));
    same("cli/ls-name", (await ls(["name=n_"])).map(lines));
    same("cli/ls-custom", (await ls(["type=custom"])).map(lines));
    same("cli/ls-builtin", (await ls(["type=builtin"])).map(lines));
    same("cli/ls-driver", (await ls(["driver=null"])).map(lines));
    same("cli/ls-dangling", (await ls(["dangling=true", "name=n_"])).map(lines));
    same("cli/ls-bad", (await ls(["color=red"])).map(lines));
    same("cli/inspect", (await both(() => ["network", "inspect", "n_a", "n_b", "n_c"])).map((r) => (json(r) as any[]).map(netView)));

    same("cli/run", (await both((t) => ["run", "-d", "--name", "c1", "--network", "n_a", "--network-alias", "web", "--ip", `${t.net}.1.10`, bb, "sleep", "300"])).map((r) => r.code));
    same("cli/run2", (await both(() => ["run", "-d", "--name", "c2", "--network", "n_a", "--network-alias", "web", bb, "sleep", "300"])).map((r) => r.code));
    same("cli/run-ip-taken", (await both((t) => ["run", "--rm", "--network", "n_a", "--ip", `${t.net}.1.10`, bb, "true"])).map(lines));
    same("cli/run-ip-outside", (await both((t) => ["run", "--rm", "--network", "n_a", "--ip", `${t.net}.9.10`, bb, "true"])).map(lines));
    same("cli/connect", (await both((t) => ["network", "connect", "--alias", "extra", "--ip", `${t.net}.4.20`, "n_b", "c1"])).map(lines));
    same("cli/connect-twice", (await both(() => ["network", "connect", "n_b", "c1"])).map(lines));
    same("cli/c1-networks", (await both(() => ["inspect", "c1", "--format", "{{json .NetworkSettings}}"])).map((r) => {
      const ns = json(r);
      return { ...ns, SandboxID: typeof ns.SandboxID, SandboxKey: typeof ns.SandboxKey };
    }));
    same("cli/c1-ip", (await both(() => ["exec", "c1", "ip", "-4", "-o", "addr", "show"])).map((r) => ({ ...lines(r), out: r.stdout.split("\n").filter(Boolean).map((l) => l.replace(/^\d+: /, "").replace(/\s+valid_lft.*/, "")).sort() })));
    same("cli/inspect-endpoints", (await both(() => ["network", "inspect", "n_a", "n_b"])).map((r) => (json(r) as any[]).map(netView)));
    // The CLI joins .Networks in its Go map's order, which is random: compared as a set.
    const networksAsSet = (l: string) => l.replace(/ (\S+)$/, (_, nets: string) => ` ${nets.split(",").sort().join(",")}`);
    same("cli/ps-filter", (await both(() => ["ps", "--filter", "network=n_b", "--format", "{{.Names}} {{.Networks}}"])).map((r) => {
      const l = lines(r);
      return { ...l, out: l.out.map(networksAsSet) };
    }));
    same("cli/disconnect", (await both(() => ["network", "disconnect", "n_b", "c1"])).map(lines));
    same("cli/disconnect-twice", (await both(() => ["network", "disconnect", "n_b", "c1"])).map(lines));
    same("cli/rm-in-use", (await both(() => ["network", "rm", "n_a"])).map((r) => ({ code: r.code, err: r.stderr.replace(/id [0-9a-f]{64}/, "id <id>").trim() })));
    same("cli/rm-missing", (await both(() => ["network", "rm", "n_nope"])).map(lines));
    same("cli/rm-builtin", (await both(() => ["network", "rm", "host"])).map(lines));
    same("cli/prune-label", (await both(() => ["network", "prune", "-f", "--filter", "label=a=1"])).map(lines));
    same("cli/prune", (await both(() => ["network", "prune", "-f"])).map(lines));
    same("cli/prune-nothing", (await both(() => ["network", "prune", "-f"])).map(lines));
    same("cli/prune-api", await Promise.all(targets.map(async (t) => (await fetchJson(t, "POST", "/networks/prune")))));
    same("cli/left", (await ls(["name=n_"])).map(lines));
    check();
  });

  /** `curl`-like call to a daemon's API over its socket. */
  const fetchJson = async (t: Target, method: string, path: string) => {
    const r = await run(["curl", "-s", "-X", method, "--unix-socket", t.host.replace("unix://", ""), `http://d/v1.41${path}`]);
    return JSON.parse(r.stdout);
  };
  /** `sh -c` in a container on each daemon. */
  const exec = (name: string, script: string) => both(() => ["exec", name, "sh", "-c", script]);

  test("embedded DNS: a container on two networks resolves both, an alias of two containers returns both, --dns is where it forwards", async () => {
    await both((t) => ["network", "create", "--subnet", `${t.net}.2.0/24`, "n_x"]);
    await both((t) => ["network", "create", "--subnet", `${t.net}.3.0/24`, "n_y"]);
    same("dns/run", (await both(() => ["run", "-d", "--name", "d1", "--network", "n_x", "--network-alias", "svc", bb, "sleep", "300"])).map((r) => r.code));
    await both(() => ["run", "-d", "--name", "d2", "--network", "n_x", "--network-alias", "svc", bb, "sleep", "300"]);
    await both(() => ["run", "-d", "--name", "d3", "--network", "n_y", bb, "sleep", "300"]);
    // Created on n_x, connected to n_y before its start (as Compose does), then started.
    await both(() => ["create", "--name", "two", "--network", "n_x", bb, "sleep", "300"]);
    await both(() => ["network", "connect", "n_y", "two"]);
    same("dns/start", (await both(() => ["start", "two"])).map(lines));
    const lookup = (name: string) => `nslookup -type=a ${name} 2>&1 | grep -A9 '^Name' ; true`;
    same("dns/first-network", (await exec("two", lookup("d1"))).map(lines));
    same("dns/second-network", (await exec("two", lookup("d3"))).map(lines));
    same("dns/not-on-mine", (await exec("d3", "ping -c1 -W1 d1 2>&1 | head -1")).map(lines));
    // Both containers of the alias, every time (clients spread their load over them).
    const alias = await exec("two", lookup("svc"));
    same("dns/alias-all", alias.map(lines));
    for (const r of alias) expect(r.stdout.match(/^Address: /gm)?.length).toBe(2);
    same("dns/resolv-conf", (await exec("two", "cat /etc/resolv.conf")).map(lines));

    // --dns: the container keeps the embedded resolver, which forwards other names to the --dns server.
    const searched: RunResult[] = [];
    for (const t of targets) {
      const before = dns.queries();
      const r = await docker(t, ["run", "--rm", "--network", "n_x", "--dns", dns.ip, "--dns-search", "example.test", "--dns-option", "timeout:2", bb, "sh", "-c", "cat /etc/resolv.conf; nslookup -type=a ext.test 2>&1 | grep -A9 '^Name'; nslookup -type=a d1 2>&1 | grep -c '^Address'"]);
      searched.push(r);
      expect({ daemon: t.name, code: r.code, answer: r.stdout.includes("192.0.2.7"), forwarded: dns.queries() > before }).toEqual({ daemon: t.name, code: 0, answer: true, forwarded: true });
    }
    same("dns/forward-search", searched.map(lines));
    const fwd = await both(() => ["run", "--rm", "--network", "n_x", "--dns", dns.ip, bb, "sh", "-c", "cat /etc/resolv.conf; nslookup -type=a ext.test 2>&1 | grep -A9 '^Name'; nslookup -type=a d2 2>&1 | grep -c '^Address'"]);
    same("dns/forward", fwd.map(lines));
    check();
  });

  test("legacy links: hosts lines, link variables, HostConfig.Links, rm --link and its errors; links on a user network", async () => {
    await both(() => ["run", "-d", "--name", "lweb", "-e", "FOO=bar", "--expose", "80", "--expose", "53/udp", "--expose", "8000-8002", bb, "sleep", "300"]);
    same("links/run", (await both(() => ["run", "-d", "--name", "lcli", "--link", "lweb:w", "--link", "lweb", bb, "sleep", "300"])).map((r) => r.code));
    // dockerd lists HostConfig.Links and writes the hosts lines in its link index's map order (random,
    // moby daemon/inspect.go over linkIndex.children): both compared as sets, one entry per line.
    same("links/stored", (await both(() => ["inspect", "lcli", "--format", "{{range .HostConfig.Links}}{{println .}}{{end}}{{json .NetworkSettings.Networks.bridge.Links}}"])).map(lines));
    same("links/hosts", (await exec("lcli", "tail -3 /etc/hosts")).map(lines));
    same("links/env", (await exec("lcli", "env | grep -v -e ^HOSTNAME= | sort")).map(lines));
    same("links/by-name", (await exec("lcli", "ping -c1 -W1 w | head -1")).map(lines));
    same("links/run-env", (await both(() => ["run", "--rm", "--name", "lrun", "--link", "lweb:r-x", bb, "sh", "-c", "env | grep ^R_X | sort"])).map(lines));
    same("links/missing", (await both(() => ["run", "--rm", "--link", "nope:x", bb, "true"])).map(lines));
    await both(() => ["create", "--name", "lstopped", bb, "true"]);
    same("links/not-running", (await both(() => ["run", "--name", "lparent", "--link", "lstopped:s", bb, "true"])).map(lines));
    same("links/bad-format", (await both(() => ["run", "--rm", "--link", "a:b:c", bb, "true"])).map(lines));
    same("links/rm-link", (await both(() => ["rm", "--link", "lcli/w"])).map(lines));
    same("links/after-rm", (await both(() => ["inspect", "lcli", "--format", "{{json .HostConfig.Links}}"])).map(lines));
    same("links/hosts-after-rm", (await exec("lcli", "tail -2 /etc/hosts")).map(lines));
    same("links/rm-link-missing", (await both(() => ["rm", "--link", "lcli/zz"])).map(lines));
    same("links/rm-link-own-name", (await both(() => ["rm", "--link", "lcli"])).map(lines));
    same("links/rm-link-api", await Promise.all(targets.map(async (t) => {
      const r = await run(["curl", "-s", "-w", "\n%{http_code}", "-X", "DELETE", "--unix-socket", t.host.replace("unix://", ""), "http://d/v1.41/containers/nope/x?link=1"]);
      const [body = "", code] = r.stdout.trim().split(/\n(?=\d+$)/);
      return { body: JSON.parse(body), code };
    })));
    // On a user network the CLI sends the link as the endpoint's Links: the alias resolves for this container only.
    await both((t) => ["network", "create", "--subnet", `${t.net}.6.0/24`, "n_l"]);
    await both(() => ["run", "-d", "--name", "lu1", "--network", "n_l", bb, "sleep", "300"]);
    same("links/user-run", (await both(() => ["run", "-d", "--name", "lu2", "--network", "n_l", "--link", "lu1:uu", bb, "sleep", "300"])).map((r) => r.code));
    same("links/user-stored", (await both(() => ["inspect", "lu2", "--format", "{{json .HostConfig.Links}} {{json .NetworkSettings.Networks.n_l.Links}}"])).map(lines));
    same("links/user-resolves", (await exec("lu2", "ping -c1 -W1 uu | head -1")).map(lines));
    same("links/user-others-not", (await exec("lu1", "ping -c1 -W1 uu 2>&1 | head -1")).map(lines));
    check();
  });

  test("IPv6: --ipv6 networks with a v6 subnet, addresses in inspect, v6 between two containers, AAAA names", async () => {
    same("ipv6/create", (await both((t) => ["network", "create", "--ipv6", "--subnet", `${t.net6}:/64`, "n_6"])).map((r) => r.code));
    same("ipv6/inspect", (await both(() => ["network", "inspect", "n_6", "--format", "{{json .EnableIPv6}} {{json .IPAM}}"])).map(lines));
    await both(() => ["run", "-d", "--name", "v6a", "--network", "n_6", bb, "sleep", "300"]);
    same("ipv6/run-ip6", (await both((t) => ["run", "-d", "--name", "v6b", "--network", "n_6", "--ip6", `${t.net6}:99`, bb, "sleep", "300"])).map((r) => r.code));
    same("ipv6/endpoint", (await both(() => ["inspect", "v6a", "--format", "{{json .NetworkSettings.Networks.n_6}}"])).map(json));
    same("ipv6/containers", (await both(() => ["network", "inspect", "n_6"])).map((r) => (json(r) as any[]).map(netView)));
    same("ipv6/addr", (await exec("v6a", "ip -6 -o addr show dev eth0 scope global | awk '{print $4}'; ip -6 route show default | cut -d' ' -f1-5")).map(lines));
    same("ipv6/ping", (await both((t) => ["exec", "v6a", "ping", "-6", "-c1", "-W2", `${t.net6}:99`])).map((r) => ({ code: r.code, first: r.stdout.split("\n")[0] })));
    same("ipv6/aaaa", (await exec("v6a", "nslookup -type=aaaa v6b 2>&1 | grep -A9 '^Name'")).map(lines));
    // Without a v6 address dockerd turns IPv6 off in the container: no ::1, no fe80:: (default bridge, none).
    const v6lines = (r: RunResult) => ({ code: r.code, out: r.stdout.split("\n").filter(Boolean).map((l) => l.replace(/^\d+: /, "").replace(/\s+\\.*$/, "")).sort() });
    same("ipv6/off-bridge", (await both(() => ["run", "--rm", bb, "ip", "-6", "-o", "addr"])).map(v6lines));
    same("ipv6/off-none", (await both(() => ["run", "--rm", "--network", "none", bb, "ip", "-6", "-o", "addr"])).map(v6lines));
    same("ipv6/on-v6-network", (await both(() => ["run", "--rm", "--network", "n_6", bb, "ip", "-6", "-o", "addr"])).map((r) => ({ code: r.code, out: v6lines(r).out.map((l) => l.replace(/fe80::\S+/, "<ll6>")) })));
    same("ipv6/ip6-outside", (await both(() => ["run", "--rm", "--network", "n_6", "--ip6", "fd00:ffff::9", bb, "true"])).map(lines));
    check();
  });

  test("MAC address, link-local IPs and the bridge name option (Debian's 20.10 CLI: MacAddress in Config)", async () => {
    await both((t) => ["network", "create", "--subnet", `${t.net}.7.0/24`, "-o", `com.docker.network.bridge.name=${t.bridge}`, "n_m"], OLD_CLI);
    same("mac/run", (await both(() => ["run", "-d", "--name", "m1", "--network", "n_m", "--mac-address", "02:11:22:33:44:55", "--link-local-ip", "169.254.9.9", bb, "sleep", "300"], OLD_CLI)).map((r) => r.code));
    same("mac/inspect", (await both(() => ["inspect", "m1", "--format", "{{json .Config.MacAddress}} {{json .NetworkSettings.MacAddress}} {{json .NetworkSettings.Networks.n_m}}"], OLD_CLI)).map((r) => ({ code: r.code, out: normaliseMacs(r.stdout) })));
    same("mac/iface", (await exec("m1", "ip -o link show eth0 | grep -o 'link/ether [^ ]*'; ip -4 -o addr show dev eth0 | awk '{print $4}'")).map((r) => ({ ...lines(r), out: r.stdout.split("\n").filter(Boolean).map(normaliseMacs).sort() })));
    same("mac/bridge", targets.map((t) => {
      const r = Bun.spawnSync(["ip", "-o", "link", "show", t.bridge]);
      return { code: r.exitCode, master: Bun.spawnSync(["ip", "-o", "link", "show", "master", t.bridge]).stdout.toString().split("\n").filter(Boolean).length };
    }));
    await both(() => ["rm", "-f", "m1"]);
    await both(() => ["network", "rm", "n_m"]);
    check();
  });

  test("subnet choice: a network ctr makes never takes the subnet of another daemon's bridge, nor the other way round", async () => {
    const subnetOf = async (t: Target, n: string) => (await docker(t, ["network", "inspect", n, "--format", "{{(index .IPAM.Config 0).Subnet}}"])).stdout.trim();
    const [d, c] = targets as [Target, Target];
    expect((await docker(c, ["network", "create", "auto1"])).code).toBe(0);
    expect((await docker(d, ["network", "create", "auto1"])).code).toBe(0);
    expect((await docker(d, ["network", "create", "auto2"])).code).toBe(0);
    expect((await docker(c, ["network", "create", "auto2"])).code).toBe(0);
    const subnets = [await subnetOf(c, "auto1"), await subnetOf(d, "auto1"), await subnetOf(d, "auto2"), await subnetOf(c, "auto2")];
    expect(new Set(subnets).size).toBe(4);
    for (const t of targets) await docker(t, ["network", "rm", "auto1", "auto2"]);
  });
});

/** The MACs Docker derives from an address (02:42:…) as a token; a MAC given by the user kept. */
function normaliseMacs(s: string): string {
  return s.replace(/02:42(:[0-9a-f]{2}){4}/g, "<docker-mac>");
}

function at(v: unknown, path: string): unknown {
  return path.split(/[.[\]]/).filter(Boolean).reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], v);
}
