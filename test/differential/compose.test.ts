// Docker Compose 1.29 against dockerd and against ctr: the same compose files,
// the same commands, the outcomes (exit codes, outputs, ps, inspect) normalised
// and compared. A difference not listed in intended-differences.ts fails.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { hasDocker, startDaemon, until, type RunResult, type TestDaemon } from "../helpers/daemon.ts";
import { dockerdSkipReason, startPeers, stopPeers, type TestDockerd } from "../helpers/dockerd.ts";
import { compose, haveCompose, projectDir, type ComposeTarget } from "../helpers/compose.ts";
import { differences, normalise } from "../helpers/normalise.ts";
import type { RunningRegistry } from "../helpers/registry.ts";
import { intended } from "./intended-differences.ts";
import { freePrefixes } from "../helpers/free-prefix.ts";
import { snapshotHostFirewall, type HostFirewallSnapshot } from "../helpers/host-firewall.ts";
import { CI, DEPS, DEPS_BAD, DEPS_DOCKERFILE, LIFE, PAIR, RESTART } from "./compose-files.ts";

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
    let bb: string;
    ({ reg, bb, ctr, dkr } = await startPeers({ iptables: true }));
    // Fixed subnets of the compose files: a /16 of each daemon's own that no host route touches,
    // so the two never share a route and no bridge a killed run left takes their replies.
    const [dNet, cNet] = freePrefixes(2, 180 + (process.pid % 60));
    targets = [
      { name: "dockerd", host: dkr.host, docker: dkr.docker, env: { BB: bb, NET: dNet! } },
      { name: "ctr", host: ctr.host, docker: ctr.docker, env: { BB: bb, NET: cNet! } },
    ];
    await Promise.all(targets.map((t) => t.docker(["pull", "-q", bb])));
  });
  afterAll(async () => {
    try {
      // A failed scenario leaves its project: take it down, so dockerd removes its bridges and rules.
      for (const d of dirs) await Promise.all((targets ?? []).map((t) => compose(t, d.dir, d.project, ["down", "-v", "-t", "1"])));
      for (const d of dirs) d[Symbol.dispose]();
      await stopPeers({ reg, ctr, dkr });
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
  const same = <T,>(step: string, outcomes: T[]): T => {
    const [d, c] = outcomes.map((o, i) => norm(targets[i]!, o));
    for (const p of differences(d, c)) {
      const key = `compose/${step}/${p}`;
      if (!intended(key)) found.push(`${key}: dockerd ${JSON.stringify(at(d, p))} ctr ${JSON.stringify(at(c, p))}`);
    }
    // dockerd's outcome, for the few checks that the scenario did what it says (both could be wrong alike).
    return outcomes[0]!;
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
    const before = await objects("app");
    const down = await both(p.dir, "app", ["down", "-v"]);
    same("app/down", down.map((r) => r.code));
    same("app/left", await leftovers("app"));
    same("app/host", before.map(hostTraces));
    check();
  });

  test("--scale web=3 up and down to 1; stop/start/restart/kill/pause/unpause/top/port/logs/exec/run --rm", async () => {
    const p = project("life", { "docker-compose.yml": LIFE });
    same("life/up-scale-3", (await bothInTurn(p.dir, "life", ["up", "-d", "--scale", "web=3"])).map(progress));
    same("life/ps-3", (await both(p.dir, "life", ["ps"])).map(psRows));
    // The service name answers with every replica's address, so clients spread load.
    const dnsCount = ["dns", "life_client_1", "nslookup web 2>/dev/null | sed -n '/^Name/,$p' | grep -c '^Address'"] as [string, string, string];
    expect(same("life/dns-3", await probe([dnsCount])).dns).toMatchObject({ stdout: "3\n" });
    same("life/port-index-3", (await both(p.dir, "life", ["port", "--index=3", "web", "80"])).map(portResult));
    // Replicas are created in parallel: which one gets which address varies.
    same("life/inspect-3", (await inspectAll("life")).map(withoutAddresses));
    same("life/up-scale-1", (await bothInTurn(p.dir, "life", ["up", "-d", "--scale", "web=1"])).map(progress));
    same("life/ps-1", (await both(p.dir, "life", ["ps"])).map(psRows));
    expect(same("life/dns-1", await probe([dnsCount])).dns).toMatchObject({ stdout: "1\n" });
    same("life/port", (await both(p.dir, "life", ["port", "web", "80"])).map(portResult));

    // Each command's exit code, its progress lines, then the states it leaves.
    const step = async (name: string, args: string[]) => {
      same(`life/${name}`, (await both(p.dir, "life", args)).map(progress));
      same(`life/${name}-states`, await states("life"));
    };
    await step("stop", ["stop", "web"]);
    await step("start", ["start", "web"]);
    await step("restart", ["restart", "-t", "1", "web"]);
    await step("kill", ["kill", "web"]);
    await step("start-again", ["start", "web"]);
    await step("pause", ["pause", "web"]);
    same("life/ps-paused", (await both(p.dir, "life", ["ps"])).map(psRows));
    same("life/exec-paused", (await both(p.dir, "life", ["exec", "-T", "web", "true"])).map(progress));
    await step("unpause", ["unpause", "web"]);
    same("life/top", (await both(p.dir, "life", ["top", "web"])).map(topResult));
    // Every start of web printed one line: up, start, restart, start again.
    same("life/logs", (await both(p.dir, "life", ["logs", "--no-color", "web"])).map(result));
    same("life/exec", (await both(p.dir, "life", ["exec", "-T", "web", "sh", "-c", "echo in-web; exit 4"])).map(result));
    same("life/exec-web-from-client", (await both(p.dir, "life", ["exec", "-T", "client", "wget", "-qO-", "http://web/etc/hostname"])).map(progress));
    same("life/run-rm", (await both(p.dir, "life", ["run", "--rm", "-T", "web", "sh", "-c", "echo one-off; exit 7"])).map(result));
    // run --rm leaves no one-off container.
    same("life/after-run", await states("life"));
    // A changed service is recreated (Compose reads the image's ContainerConfig), the other left as it is.
    writeFileSync(join(p.dir, "docker-compose.yml"), LIFE.replace("    ports: [\"80\"]\n", "    ports: [\"80\"]\n    environment: { CHANGED: \"1\" }\n"));
    same("life/recreate", (await bothInTurn(p.dir, "life", ["up", "-d"])).map(progress));
    expect(same("life/recreated", await probe([["env", "life_web_1", "echo $CHANGED"], ["by-name", "life_client_1", "wget -qO- http://web/etc/hostname >/dev/null && echo reached"]]))).toMatchObject({ env: { stdout: "1\n" }, "by-name": { stdout: "reached\n" } });
    same("life/down", (await both(p.dir, "life", ["down"])).map(progress));
    same("life/left", await leftovers("life"));
    check();
  });

  test("depends_on service_healthy and service_completed_successfully, healthchecks (image and file), build:", async () => {
    const p = project("deps", { "docker-compose.yml": DEPS, "db/Dockerfile": DEPS_DOCKERFILE });
    const since = targets.map(() => `${Date.now() / 1000 - 1}`);
    const up = await bothInTurn(p.dir, "deps", ["up", "-d"]);
    same("deps/up", up.map((r) => r.code));
    same("deps/ps", (await both(p.dir, "deps", ["ps"])).map(psRows));
    same("deps/inspect", await inspectAll("deps"));
    same("deps/image", (await dockerBoth(["image", "inspect", "-f", "{{json .Config}}", "deps_db"])).map((r) => ({ code: r.code, config: r.code ? r.stderr : JSON.parse(r.stdout) })));
    // app started only after seed had exited 0 and api had become healthy; api only after db had.
    const order = same("deps/order", await Promise.all(targets.map(async (t, i) => {
      const ev = await t.docker(["events", "--since", since[i]!, "--until", `${Date.now() / 1000}`, "--filter", "type=container", "--format", "{{.TimeNano}}|{{.Action}}|{{.Actor.Attributes.name}}"]);
      const at = (action: string, name: string) => ev.stdout.split("\n").map((l) => l.split("|")).find((l) => l[1] === action && l[2] === name)?.[0];
      const before = (a?: string, b?: string) => !!a && !!b && BigInt(a) < BigInt(b);
      return {
        seedDiedBeforeAppStarted: before(at("die", "deps_seed_1"), at("start", "deps_app_1")),
        dbHealthyBeforeApiStarted: before(at("health_status: healthy", "deps_db_1"), at("start", "deps_api_1")),
        apiHealthyBeforeAppStarted: before(at("health_status: healthy", "deps_api_1"), at("start", "deps_app_1")),
      };
    })));
    expect(order).toEqual({ seedDiedBeforeAppStarted: true, dbHealthyBeforeApiStarted: true, apiHealthyBeforeAppStarted: true });
    same("deps/probes", await probe([
      ["seeded", "deps_app_1", "cat /data/seed"],
      ["built", "deps_db_1", "cat /built"],
    ]));
    same("deps/logs", (await both(p.dir, "deps", ["logs", "--no-color", "app"])).map(result));
    same("deps/down", (await both(p.dir, "deps", ["down", "-v", "--rmi", "local"])).map(progress));
    same("deps/left", await leftovers("deps"));

    // Dependencies that never get ready: Compose stops with its error, the dependant is never created.
    const bad = project("depsbad", { "docker-compose.yml": DEPS_BAD });
    same("deps/bad-fails", (await bothInTurn(bad.dir, "depsbad", ["up", "-d", "after-fails"])).map(progress));
    same("deps/bad-sick", (await bothInTurn(bad.dir, "depsbad", ["up", "-d", "after-sick"])).map(progress));
    same("deps/bad-states", await states("depsbad"));
    same("deps/bad-down", (await both(bad.dir, "depsbad", ["down", "-v"])).map((r) => r.code));
    check();
  });

  test("two projects side by side: up and down -v of one never touches the other; down -v leaves nothing on the host", async () => {
    const pa = project("pa", { "docker-compose.yml": PAIR });
    const pb = project("pb", { "docker-compose.yml": PAIR });
    same("pair/up-a", (await bothInTurn(pa.dir, "pa", ["up", "-d"])).map((r) => r.code));
    same("pair/up-b", (await bothInTurn(pb.dir, "pb", ["up", "-d"])).map((r) => r.code));
    const bBefore = await objects("pb");
    const aObjects = await objects("pa");
    same("pair/b", bBefore.map(({ view }) => view));
    same("pair/a-down", (await both(pa.dir, "pa", ["down", "-v"])).map((r) => r.code));
    // b's containers, networks and volumes are the same objects, still running, with their bridges.
    const bAfter = await objects("pb");
    expect(same("pair/b-untouched", bAfter.map((o, i) => ({ same: JSON.stringify(o) === JSON.stringify(bBefore[i]), view: o.view }))).same).toBe(true);
    same("pair/a-left", await leftovers("pa"));
    same("pair/a-host", aObjects.map(hostTraces));
    // b's volume still holds what its container wrote.
    same("pair/b-volume", await probe([["volume", "pb_web_1", "echo b > /data/f && cat /data/f"]]));
    same("pair/b-down", (await both(pb.dir, "pb", ["down", "-v"])).map((r) => r.code));
    same("pair/b-left", await leftovers("pb"));
    same("pair/b-host", bAfter.map(hostTraces));
    // Nothing of b is left to prune: dockerd's report says null, not [].
    const filters = encodeURIComponent(JSON.stringify({ label: ["com.docker.compose.project=pb"] }));
    const prune = (sock: string) =>
      fetch(`http://d/v1.41/networks/prune?filters=${filters}`, { method: "POST", unix: sock } as RequestInit).then(async (r) => ({ status: r.status, body: await r.json() }));
    same("pair/prune-nothing", await Promise.all([prune(dkr.sock), prune(ctr.sock)]));
    check();
  });

  test("up attached with --abort-on-container-exit --exit-code-from: the job's output and exit code", async () => {
    const p = project("ci", { "docker-compose.yml": CI });
    const up = await bothInTurn(p.dir, "ci", ["up", "--abort-on-container-exit", "--exit-code-from", "check"]);
    // Lines of two containers interleave as they come: compared as a set.
    expect(same("ci/up", up.map((r) => ({ ...logLines(r), stderr: progress(r).stderr }))).code).toBe(3);
    same("ci/ps", (await both(p.dir, "ci", ["ps"])).map(psRows));
    same("ci/down", (await both(p.dir, "ci", ["down"])).map((r) => r.code));
    same("ci/left", await leftovers("ci"));
    check();
  });

  // Last: it restarts both daemons.
  test("restart: always and on-failure[:N], after the process exits and after a daemon restart; kill", async () => {
    const p = project("rs", { "docker-compose.yml": RESTART });
    same("restart/up", (await bothInTurn(p.dir, "rs", ["up", "-d"])).map((r) => r.code));
    // twice fails three times (on-failure:2 restarts it twice), ok exits 0 and stays.
    await settle("rs", (s) => s["/rs_twice_1"]?.Status === "exited" && s["/rs_twice_1"]?.RestartCount === 2 && s["/rs_ok_1"]?.Status === "exited");
    // Each loop service fails once (exit 3): always and on-failure come back, no policy does not.
    await Promise.all(["rs_always_1", "rs_onfail_1", "rs_never_1"].map((c) => dockerBoth(["exec", c, "touch", "/stop"])));
    await settle("rs", (s) => s["/rs_always_1"]?.RestartCount === 1 && s["/rs_always_1"]?.Running && s["/rs_onfail_1"]?.RestartCount === 1 && s["/rs_onfail_1"]?.Running && s["/rs_never_1"]?.Status === "exited");
    same("restart/after-exit", await states("rs"));
    same("restart/logs", (await both(p.dir, "rs", ["logs", "--no-color", "always", "twice"])).map(logLines));
    // A kill is a stop asked by the user: no policy brings the container back.
    same("restart/kill", (await both(p.dir, "rs", ["kill", "always", "onfail"])).map(progress));
    await settle("rs", (s) => s["/rs_always_1"]?.Status === "exited" && s["/rs_onfail_1"]?.Status === "exited");
    same("restart/after-kill", await states("rs"));
    await both(p.dir, "rs", ["start", "onfail"]);
    await settle("rs", (s) => !!s["/rs_onfail_1"]?.Running);
    // Both daemons stop (their containers with them) and come back on the same state: always comes back, even killed.
    await Promise.all([dkr.restart(), (async () => {
      await ctr.stop();
      ctr = await startDaemon([], { dir: ctr.dir });
    })()]);
    await settle("rs", (s) => !!s["/rs_always_1"]?.Running, 60_000);
    same("restart/after-daemon-restart", await states("rs"));
    same("restart/ps", (await both(p.dir, "rs", ["ps"])).map(psRows));
    same("restart/down", (await both(p.dir, "rs", ["down", "-v"])).map((r) => r.code));
    same("restart/left", await leftovers("rs"));
    check();
  });

  /** Lines of several containers interleave as they come; "Attaching to" lists them in list order (creation: parallel). */
  const logLines = (r: RunResult) => ({ code: r.code, lines: r.stdout.split("\n").map((l) => l.replace(/^(Attaching to )(.*)$/, (_, a, b) => a + b.split(", ").sort().join(", "))).sort() });
  /** Exit code, stdout and Compose's progress lines (stderr; their order follows parallel work, so sorted). */
  const progress = (r: RunResult) => ({
    code: r.code,
    stdout: r.stdout,
    // Names are padded to the longest one Compose knows at the moment it prints: whitespace runs are one space.
    stderr: r.stderr.split(/\r?\n/).map((l) => l.trim().replace(/\s+/g, " ")).filter(Boolean).sort(),
  });
  /** `port`: the host port varies; the address and the shape not. */
  const portResult = (r: RunResult) => ({ code: r.code, stdout: r.stdout.replace(/:\d+$/m, ":<port>"), stderr: r.stderr });
  /** `top`: a table per container; pids, times and the init's name vary, user and command not. */
  const topResult = (r: RunResult) => ({
    code: r.code,
    // The rule under the header is as wide as the widest row.
    rows: r.stdout.split("\n").filter((l) => l && !/^-+$/.test(l.trim())).map((l) => {
      const c = l.trim().split(/\s+/);
      return c.length >= 8 ? [c[0], c.slice(7).join(" ")] : c;
    }),
  });

  /** Each container of a project: state, restart count, health. */
  const states = (project: string) =>
    Promise.all(
      targets.map(async (t) => {
        const ids = (await t.docker(["ps", "-aq", "--filter", `label=com.docker.compose.project=${project}`])).stdout.split("\n").filter(Boolean);
        if (!ids.length) return {} as Record<string, any>;
        const list = JSON.parse((await t.docker(["inspect", ...ids])).stdout) as Record<string, any>[];
        return Object.fromEntries(
          list.map((i) => [i.Name, { Status: i.State.Status, Running: i.State.Running, Paused: i.State.Paused, ExitCode: i.State.ExitCode, RestartCount: i.RestartCount, Health: i.State.Health?.Status }]),
        ) as Record<string, any>;
      }),
    );
  /** Polls until `cond` holds for the project's states on both daemons. */
  const settle = async (project: string, cond: (s: Record<string, any>) => boolean, ms = 30_000) => {
    for (const t of targets) {
      await until(async () => cond((await statesOf(t, project))), `${t.name}: ${project} to settle`, ms).catch(async (e) => {
        console.error(`${t.name}: ${JSON.stringify(await statesOf(t, project))}`);
        throw e;
      });
    }
  };
  const statesOf = async (t: ComposeTarget, project: string) => (await states(project))[targets.indexOf(t)]!;

  /** A project's containers (id, state), networks (id, bridge), volumes (name, dir) on each daemon; view = without ids. */
  const objects = (project: string) =>
    Promise.all(
      targets.map(async (t) => {
        const f = ["--filter", `label=com.docker.compose.project=${project}`];
        const lines = async (args: string[]) => (await t.docker(args)).stdout.split("\n").filter(Boolean);
        const containers = await lines(["ps", "-a", "--no-trunc", "--format", "{{.ID}} {{.Names}} {{.State}}", ...f]);
        const networks = await lines(["network", "ls", "--no-trunc", "--format", "{{.ID}} {{.Name}}", ...f]);
        const volumes = await lines(["volume", "ls", "--format", "{{.Name}}", ...f]);
        const root = t.name === "ctr" ? join(ctr.root, "volumes") : join(dkr.dir, "data/volumes");
        return {
          containers,
          networks,
          volumes,
          bridges: networks.map((n) => `br-${n.slice(0, 12)}`),
          volumeDirs: volumes.map((v) => join(root, v)),
          view: {
            containers: containers.map((c) => c.split(" ").slice(1).join(" ")),
            networks: networks.map((n) => n.split(" ")[1]),
            volumes,
            bridges: networks.map((n) => existsSync(`/sys/class/net/br-${n.slice(0, 12)}`)),
            volumeDirs: volumes.map((v) => existsSync(join(root, v))),
          },
        };
      }),
    );
  /** What a taken-down project may have left on the host: its bridges, firewall rules naming them, its volume dirs. */
  const hostTraces = (o: { bridges: string[]; volumeDirs: string[] }) => {
    const rules = `${Bun.spawnSync(["nft", "list", "ruleset"]).stdout}\n${Bun.spawnSync(["iptables-save"]).stdout}`;
    return {
      bridges: o.bridges.filter((b) => existsSync(`/sys/class/net/${b}`)),
      rules: rules.split("\n").filter((l) => o.bridges.some((b) => l.includes(b))),
      volumeDirs: o.volumeDirs.filter((d) => existsSync(d)),
    };
  };

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
    State: { Status: i.State.Status, Running: i.State.Running, ExitCode: i.State.ExitCode, Health: i.State.Health?.Status },
    RestartCount: i.RestartCount,
    Config: { ...i.Config, Env: [...(i.Config.Env ?? [])].sort() },
    // Compose 1.29 builds Binds from a set: their order changes from run to run.
    HostConfig: { ...i.HostConfig, Binds: i.HostConfig.Binds ? [...i.HostConfig.Binds].sort() : null },
    Mounts: [...i.Mounts].sort((a, b) => a.Destination.localeCompare(b.Destination)),
    Networks: networks,
  };
}

/** An inspectAll answer without the endpoints' addresses. */
function withoutAddresses(v: Record<string, any>): Record<string, any> {
  return Object.fromEntries(
    Object.entries(v).map(([k, c]) => [k, { ...c, Networks: Object.fromEntries(Object.entries(c.Networks as Record<string, any>).map(([n, e]) => [n, { ...e, IPAddress: e.IPAddress ? "<ip>" : e.IPAddress }])) }]),
  );
}

/** Aliases in a stable order: names, then the container's short id (which differs per daemon). */
function shortIdsLast(a: string, b: string): number {
  const id = (s: string) => /^[0-9a-f]{12}$/.test(s);
  return Number(id(a)) - Number(id(b)) || a.localeCompare(b);
}

function at(v: unknown, path: string): unknown {
  let cur: any = v;
  if (path === "<root>") return v;
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
