// Docker Compose 1.29 against dockerd and against ctr: the same compose files,
// the same commands, the outcomes (exit codes, outputs, ps, inspect) normalised
// and compared. A difference not listed in intended-differences.ts fails.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { hasDocker, startDaemon, type RunResult, type TestDaemon } from "../helpers/daemon.ts";
import { dockerdSkipReason, startDockerd, type TestDockerd } from "../helpers/dockerd.ts";
import { compose, haveCompose, projectDir, type ComposeTarget } from "../helpers/compose.ts";
import { differences, normalise } from "../helpers/normalise.ts";
import { seedBusybox, startRegistry, type RunningRegistry } from "../helpers/registry.ts";
import { intended } from "./intended-differences.ts";
import { snapshotHostFirewall, type HostFirewallSnapshot } from "../helpers/host-firewall.ts";

setDefaultTimeout(180_000);
const skip = dockerdSkipReason ?? (!hasDocker ? "needs the docker CLI" : !haveCompose ? "needs Debian's docker-compose" : undefined);
if (skip) console.warn(`skip: differential compose: ${skip}`);

describe.skipIf(!!skip)("differential: docker-compose against dockerd and ctr", () => {
  let reg: RunningRegistry;
  let ctr: TestDaemon;
  let dkr: TestDockerd;
  let targets: ComposeTarget[];
  let host: HostFirewallSnapshot | undefined;
  const dirs: { dir: string; project: string; [Symbol.dispose](): void }[] = [];

  beforeAll(async () => {
    // dockerd with its own iptables rules, as on a box with Docker: it opens FORWARD for its
    // bridges (the host may have FORWARD DROP) and isolates internal networks for real.
    host = await snapshotHostFirewall();
    reg = await startRegistry();
    const bb = await seedBusybox(reg.host);
    [ctr, dkr] = await Promise.all([startDaemon(), startDockerd({ iptables: true })]);
    // Fixed subnets of the compose files: a /16 of each daemon's own, so the two never share a route.
    const net = (k: number) => `10.${180 + ((process.pid + k) % 60)}`;
    targets = [
      { name: "dockerd", host: dkr.host, docker: dkr.docker, env: { BB: bb, NET: net(0) } },
      { name: "ctr", host: ctr.host, docker: ctr.docker, env: { BB: bb, NET: net(30) } },
    ];
    await Promise.all(targets.map((t) => t.docker(["pull", "-q", bb])));
  });
  afterAll(async () => {
    try {
      // A failed scenario leaves its project: take it down, so dockerd removes its bridges and rules.
      for (const d of dirs) await Promise.all((targets ?? []).map((t) => compose(t, d.dir, d.project, ["down", "-v", "-t", "1"])));
      for (const d of dirs) d[Symbol.dispose]();
      await Promise.all([ctr?.[Symbol.asyncDispose](), dkr?.[Symbol.asyncDispose]()]);
      await reg?.stop();
    } finally {
      host?.restore(dkr?.bridge ?? "");
    }
  });

  /** A scenario's project directory, taken down and removed after the suite whatever happens. */
  const project = (name: string, files: Record<string, string>) => {
    const p = { ...projectDir(files), project: name };
    dirs.push(p);
    return p;
  };

  /** Runs `args` on both daemons at once; answers in the order of `targets` (dockerd, ctr). */
  const both = (dir: string, project: string, args: string[]) => Promise.all(targets.map((t) => compose(t, dir, project, args)));
  const bothInTurn = async (dir: string, project: string, args: string[]) => {
    const out: RunResult[] = [];
    for (const t of targets) {
      const r = await compose(t, dir, project, args);
      if (r.code) console.error(`${t.name}: docker-compose ${args.join(" ")}: ${r.stderr.slice(-1500)}`);
      out.push(r);
    }
    return out;
  };
  const dockerBoth = (args: string[]) => Promise.all(targets.map((t) => t.docker(args)));

  /** What varies per daemon and per run becomes a token: roots, subnets, ids, times, addresses, host ports. */
  const norm = (t: ComposeTarget, v: unknown) =>
    normalise(v, {
      replace: {
        [t.env.NET!]: "<net>",
        [t.env.BB!]: "<busybox>",
        [t.name === "ctr" ? `${ctr.root}/volumes` : `${dkr.dir}/data/volumes`]: "<volumes>",
      },
    });

  /**
   * Records every difference between dockerd's and ctr's outcome not listed
   * as intended; `check()` at the end of a scenario fails on any (all of them
   * reported at once, not only the first step's).
   */
  let found: string[] = [];
  const same = (step: string, outcomes: unknown[]) => {
    const [d, c] = outcomes.map((o, i) => norm(targets[i]!, o));
    for (const p of differences(d, c)) {
      const key = `compose/${step}/${p}`;
      if (!intended(key)) found.push(`${key}: dockerd ${JSON.stringify(at(d, p))} ctr ${JSON.stringify(at(c, p))}`);
    }
  };
  const check = () => {
    const f = found;
    found = [];
    if (f.length) console.error(`ctr daemon log (end):\n${ctr.log().slice(-4000)}`);
    expect(f).toEqual([]);
  };

  const result = (r: RunResult) => ({ code: r.code, stdout: r.stdout });
  /** `docker-compose ps` as rows of cells (column widths follow the content), host ports as a token. */
  const psRows = (r: RunResult) => ({
    code: r.code,
    rows: r.stdout
      .split("\n")
      .slice(2)
      .filter(Boolean)
      .map((l) => l.trim().replace(/:\d+->/g, ":<port>->").split(/\s{2,}/))
      // The ports cell as a list of bindings.
      .map((cells) => [...cells.slice(0, 4), ...(cells[4] ? [cells[4].split(",")] : [])]),
  });
  const inspectAll = async (project: string) =>
    Promise.all(
      targets.map(async (t) => {
        const ids = (await t.docker(["ps", "-aq", "--filter", `label=com.docker.compose.project=${project}`])).stdout.split("\n").filter(Boolean);
        if (!ids.length) return {};
        const list = JSON.parse((await t.docker(["inspect", ...ids])).stdout) as Record<string, any>[];
        return Object.fromEntries(list.map((i) => [i.Name, containerView(i)]));
      }),
    );

  test("web and client on a user network: by service name, volumes, env_file, limits, read_only, init, two networks, aliases, static IPs", async () => {
    const p = project("app", {
      "docker-compose.yml": APP,
      "web.env": "FROM_FILE=yes\n# a comment\nQUOTED='kept as is'\n",
      "site/index.html": "hello from the bind mount\n",
    });
    // One after the other: two daemons choosing subnets for new networks at the same moment may pick the same.
    const up = await bothInTurn(p.dir, "app", ["up", "-d"]);
    same("app/up", up.map((r) => r.code));
    same("app/ps", (await both(p.dir, "app", ["ps"])).map(psRows));
    same("app/inspect", await inspectAll("app"));
    // Compose 1.29 reads the image's ContainerConfig on every recreate.
    same(
      "app/image",
      (await dockerBoth(["image", "inspect", targets[0]!.env.BB!])).map((r) => {
        const i = JSON.parse(r.stdout)[0];
        return { Container: i.Container, ContainerConfig: i.ContainerConfig, VirtualSize: typeof i.VirtualSize };
      }),
    );
    // The client reaches web by service name and by alias; web reads its bind mount and volume.
    // Compose's own exec and run --rm; then probes through `docker exec` (a Go CLI starts in ms, Compose in a second).
    same("app/compose-exec", (await both(p.dir, "app", ["exec", "-T", "client", "wget", "-qO-", "http://web/index.html"])).map(result));
    same("app/compose-run", (await both(p.dir, "app", ["run", "--rm", "-T", "client", "echo", "ran"])).map(result));
    same("app/probes", await probe([
      // By service name and by alias; web's bind mount; env_file and environment; ulimits of the command; read_only + tmpfs.
      ["alias", "app_client_1", "wget -qO- http://www/index.html"],
      ["bind", "app_web_1", "cat /site/index.html"],
      ["env-limits-ro", "app_web_1", "echo $FROM_FILE $QUOTED $EXTRA; id -u; grep 'open files' /proc/$(pidof httpd)/limits; touch /x 2>&1; touch /tmp/y && echo tmp-ok"],
      // init: pid 1 is the init (docker-init, ctr's own), not the command.
      ["init", "app_web_1", "[ $(cat /proc/1/comm) != httpd ] && pidof httpd >/dev/null && echo init-is-pid-1"],
      // db is only on the internal network: web reaches it by name, client cannot resolve it.
      ["internal-route", "app_db_1", "ip route | grep -c default; true"],
      ["internal-by-name", "app_db_1", "ping -c1 -W1 web | head -1"],
      ["isolated-name", "app_client_1", "ping -c1 -W1 db 2>&1 | head -1"],
      // pids_limit in effect: a shell cannot fork 60 sleeps (the limit is 50), it stops with status 2.
      ["pids", "app_web_1", "sh -c 'for i in $(seq 60); do sleep 3 & done; echo forked-all' 2>/dev/null; echo status $?"],
    ]));
    const down = await both(p.dir, "app", ["down", "-v"]);
    same("app/down", down.map((r) => r.code));
    same("app/left", await leftovers("app"));
    check();
  });

  /** `sh -c <script>` in each container through `docker exec`: exit code and stdout, by container and script. */
  const probe = async (list: [string, string, string][]) => {
    const out: Record<string, unknown>[] = [{}, {}];
    for (const [key, name, script] of list) {
      const r = await dockerBoth(["exec", name, "sh", "-c", script]);
      r.forEach((x, i) => (out[i]![key] = { probe: `${name}: ${script}`, ...result(x) }));
    }
    return out;
  };

  /** Containers, networks and volumes of a project still on each daemon. */
  const leftovers = (project: string) =>
    Promise.all(
      targets.map(async (t) => {
        const f = ["--filter", `label=com.docker.compose.project=${project}`];
        const lines = async (args: string[]) => (await t.docker(args)).stdout.split("\n").filter(Boolean);
        return {
          containers: await lines(["ps", "-aq", ...f]),
          networks: await lines(["network", "ls", "-q", ...f]),
          volumes: await lines(["volume", "ls", "-q", ...f]),
        };
      }),
    );
});

/** The fields of an inspect Compose and its users read. */
function containerView(i: Record<string, any>) {
  const networks = Object.fromEntries(
    Object.entries((i.NetworkSettings?.Networks ?? {}) as Record<string, any>).map(([k, n]) => [
      k,
      { Aliases: [...(n.Aliases ?? [])].sort(shortIdsLast), IPAMConfig: n.IPAMConfig, Links: n.Links, DriverOpts: n.DriverOpts, IPAddress: n.IPAddress, Gateway: n.Gateway },
    ]),
  );
  return {
    State: { Status: i.State.Status, Running: i.State.Running, ExitCode: i.State.ExitCode },
    RestartCount: i.RestartCount,
    Config: { ...i.Config, Env: [...(i.Config.Env ?? [])].sort() },
    // Compose 1.29 builds Binds from a set: their order changes from run to run.
    HostConfig: { ...i.HostConfig, Binds: i.HostConfig.Binds ? [...i.HostConfig.Binds].sort() : null },
    Mounts: [...i.Mounts].sort((a, b) => a.Destination.localeCompare(b.Destination)),
    Networks: networks,
  };
}

/** Aliases in a stable order: names, then the container's short id (which differs per daemon). */
function shortIdsLast(a: string, b: string): number {
  const id = (s: string) => /^[0-9a-f]{12}$/.test(s);
  return Number(id(a)) - Number(id(b)) || a.localeCompare(b);
}

function at(v: unknown, path: string): unknown {
  let cur: any = v;
  for (const part of path.split(/\.|\[|\]/).filter(Boolean)) cur = cur?.[part];
  return cur;
}

const APP = `version: "2.4"
services:
  web:
    image: \${BB}
    command: sh -c "echo hello from the volume > /www/index.html && exec httpd -f -p 80 -h /www"
    volumes:
      - data:/www
      - ./site:/site:ro
    env_file: web.env
    environment:
      EXTRA: "1"
    networks:
      front:
        aliases: [www]
      back:
        ipv4_address: \${NET}.2.10
    read_only: true
    tmpfs: [/tmp]
    init: true
    mem_limit: 64m
    cpus: 0.5
    pids_limit: 50
    ulimits:
      nofile: { soft: 1024, hard: 2048 }
    restart: on-failure
    dns: [127.0.0.1]
    ports: ["80"]
  client:
    image: \${BB}
    command: sh -c "sleep 1000"
    stop_grace_period: 1s
    networks: [front]
    depends_on: [web]
  db:
    image: \${BB}
    command: sh -c "mkdir -p /www && echo db > /www/index.html && httpd -f -p 80 -h /www"
    stop_grace_period: 1s
    networks:
      back:
        ipv4_address: \${NET}.2.20
networks:
  front:
    ipam:
      config: [{ subnet: "\${NET}.1.0/24" }]
  back:
    internal: true
    ipam:
      config: [{ subnet: "\${NET}.2.0/24" }]
volumes:
  data:
`;
