// What the soak's clients do, one small async function per habit of a real
// client: the ctr/docker API by hand (raw HTTP, so streams can be abandoned or
// left unread), the docker CLI, dockerode and python3-docker. Every scenario
// removes what it created, even when it fails half-way.
import Docker from "dockerode";
import type { ApiClient } from "../../src/client/client.ts";
import { API_VERSION } from "../../src/version.ts";
import net from "node:net";
import { rawRequest, readAll, readSome } from "./raw-http.ts";

export interface SoakCtx {
  api: ApiClient;
  /** The daemon's unix socket path. */
  sock: string;
  image: string;
  /** Prefix of every name the soak gives (containers, networks, volumes). */
  prefix: string;
  /** Optional clients found on this machine. */
  have: { docker: boolean; python: boolean };
}

export interface Scenario {
  name: string;
  weight: number;
  run(ctx: SoakCtx): Promise<void>;
}

const V = `/v${API_VERSION}`;
let seq = 0;
const uniq = (ctx: SoakCtx, what: string) => `${ctx.prefix}-${what}-${process.pid}-${++seq}`;

async function create(ctx: SoakCtx, cmd: string[], o: { tty?: boolean; stdin?: boolean; network?: string; binds?: string[] } = {}): Promise<string> {
  const body = {
    Image: ctx.image,
    Cmd: cmd,
    Tty: !!o.tty,
    OpenStdin: !!o.stdin,
    AttachStdin: !!o.stdin,
    StdinOnce: !!o.stdin, // as `docker run -i`: the client's half-close ends the process's stdin
    AttachStdout: true,
    AttachStderr: true,
    HostConfig: { NetworkMode: o.network ?? "none", Binds: o.binds },
  };
  const r = await ctx.api.json<{ Id: string }>("POST", "/containers/create", { query: { name: uniq(ctx, "c") }, body });
  return r.Id;
}

const start = (ctx: SoakCtx, id: string) => ctx.api.request("POST", `/containers/${id}/start`).then((r) => r.body?.cancel());
const removeForce = (ctx: SoakCtx, id: string) =>
  ctx.api.request("DELETE", `/containers/${id}`, { query: { force: true, v: true } }).then((r) => r.body?.cancel(), () => {});
const wait = (ctx: SoakCtx, id: string) => ctx.api.json<{ StatusCode: number }>("POST", `/containers/${id}/wait`);

/** Creates a container, hands it to `fn`, removes it whatever happens. */
async function withContainer(ctx: SoakCtx, cmd: string[], o: Parameters<typeof create>[2], fn: (id: string) => Promise<void>): Promise<void> {
  const id = await create(ctx, cmd, o);
  try {
    await fn(id);
  } finally {
    await removeForce(ctx, id);
  }
}

const attach = (ctx: SoakCtx, id: string, stdin = false) =>
  rawRequest(ctx.sock, { method: "POST", path: `${V}/containers/${id}/attach?stream=1&stdout=1&stderr=1${stdin ? "&stdin=1" : ""}`, upgrade: true });

async function execStart(ctx: SoakCtx, id: string, cmd: string[], tty = false) {
  const ex = await ctx.api.json<{ Id: string }>("POST", `/containers/${id}/exec`, {
    body: { Cmd: cmd, AttachStdout: true, AttachStderr: true, Tty: tty },
  });
  const res = await rawRequest(ctx.sock, { method: "POST", path: `${V}/exec/${ex.Id}/start`, body: { Detach: false, Tty: tty }, upgrade: true });
  if (res.status !== 101) throw new Error(`exec start: HTTP ${res.status}`);
  return res;
}

/** The whole life of a short container, every stream read to its end. */
const lifecycle: Scenario = {
  name: "lifecycle",
  weight: 4,
  run: (ctx) =>
    withContainer(ctx, ["sh", "-c", "for i in $(seq 1 20); do echo out $i; echo err $i >&2; sleep 0.05; done; sleep 4"], {}, async (id) => {
      const a = await attach(ctx, id);
      if (a.status !== 101) throw new Error(`attach: HTTP ${a.status}`);
      const reading = readAll(a);
      await start(ctx, id);
      const ex = await execStart(ctx, id, ["sh", "-c", "echo from exec; id"]);
      await readAll(ex);
      ex.socket.destroy();
      await ctx.api.json("GET", `/containers/${id}/stats`, { query: { stream: false } });
      await ctx.api.json("GET", `/containers/${id}/top`);
      await wait(ctx, id);
      if ((await reading) === 0) throw new Error("attach read nothing");
      a.socket.destroy();
      const logs = await ctx.api.request("GET", `/containers/${id}/logs`, { query: { stdout: true, stderr: true, timestamps: true } });
      await logs.arrayBuffer();
    }),
};

/**
 * Clients that stop reading a chatty stream and later vanish: an attach and a
 * follow of logs read a little, stall (the socket stays open, unread), then
 * disconnect. The daemon must hold back, not buffer without end.
 */
const stalledReaders: Scenario = {
  name: "stalled-readers",
  weight: 2,
  run: (ctx) =>
    withContainer(ctx, ["sh", "-c", "seq 1 200000; sleep 30"], {}, async (id) => {
      const a = await attach(ctx, id);
      await start(ctx, id);
      await readSome(a, 4096);
      const logs = await rawRequest(ctx.sock, { method: "GET", path: `${V}/containers/${id}/logs?follow=1&stdout=1&stderr=1` });
      await readSome(logs, 4096);
      await Bun.sleep(1500); // both stalled: unread bytes pile up on one side or the other
      a.socket.destroy();
      logs.socket.destroy();
    }),
};

/** Execs (plain and tty) whose client disconnects mid-output, and one that reads all. */
const execs: Scenario = {
  name: "execs",
  weight: 3,
  run: (ctx) =>
    withContainer(ctx, ["sleep", "60"], {}, async (id) => {
      await start(ctx, id);
      const full = await execStart(ctx, id, ["sh", "-c", "seq 1 2000"]);
      await readAll(full);
      full.socket.destroy();
      const cut = await execStart(ctx, id, ["seq", "1", "100000"]);
      await readSome(cut, 1024);
      cut.socket.destroy();
      const tty = await execStart(ctx, id, ["sh", "-c", "seq 1 50000"], true);
      await readSome(tty, 1024);
      tty.socket.destroy();
      const hungUp = await execStart(ctx, id, ["sleep", "2"]);
      hungUp.socket.destroy(); // gone before the process printed anything
    }),
};

/** Attach with stdin: write, half-close, read the echo. */
const stdinAttach: Scenario = {
  name: "stdin-attach",
  weight: 1,
  run: (ctx) =>
    withContainer(ctx, ["cat"], { stdin: true }, async (id) => {
      const a = await attach(ctx, id, true);
      await start(ctx, id);
      a.socket.write("hello soak\n".repeat(100));
      a.socket.end();
      await readAll(a, 10_000);
      a.socket.destroy();
      await wait(ctx, id);
    }),
};

/** Networks created, a container connected and disconnected, all removed. */
const networks: Scenario = {
  name: "networks",
  weight: 2,
  run: async (ctx) => {
    const nets: string[] = [];
    try {
      for (let i = 0; i < 2; i++) {
        const n = await ctx.api.json<{ Id: string }>("POST", "/networks/create", { body: { Name: uniq(ctx, "net"), Driver: "bridge" } });
        nets.push(n.Id);
      }
      await withContainer(ctx, ["sleep", "30"], { network: nets[0] }, async (id) => {
        await start(ctx, id);
        await ctx.api.request("POST", `/networks/${nets[1]}/connect`, { body: { Container: id } }).then((r) => r.body?.cancel());
        await ctx.api.json("GET", `/containers/${id}/json`);
        await ctx.api.request("POST", `/networks/${nets[1]}/disconnect`, { body: { Container: id } }).then((r) => r.body?.cancel());
        await ctx.api.request("POST", `/containers/${id}/stop`, { query: { t: 0 } }).then((r) => r.body?.cancel());
      });
    } finally {
      for (const n of nets) await ctx.api.request("DELETE", `/networks/${n}`).then((r) => r.body?.cancel(), () => {});
    }
  },
};

/** A named volume written by one container, read by another, removed. */
const volumes: Scenario = {
  name: "volumes",
  weight: 1,
  run: async (ctx) => {
    const name = uniq(ctx, "vol");
    await ctx.api.json("POST", "/volumes/create", { body: { Name: name } });
    try {
      for (const cmd of [["sh", "-c", "echo kept > /v/f"], ["cat", "/v/f"]]) {
        await withContainer(ctx, cmd, { binds: [`${name}:/v`] }, async (id) => {
          await start(ctx, id);
          await wait(ctx, id);
        });
      }
    } finally {
      await ctx.api.request("DELETE", `/volumes/${name}`).then((r) => r.body?.cancel(), () => {});
    }
  },
};

/** A pull from the local registry (the image is present: manifests and blobs are checked). */
const pulls: Scenario = {
  name: "pull",
  weight: 1,
  run: async (ctx) => {
    const r = await ctx.api.request("POST", "/images/create", { query: { fromImage: ctx.image } });
    const text = await r.text();
    if (text.includes('"error"')) throw new Error(`pull: ${text.slice(0, 200)}`);
  },
};

/** Event and stats streams opened, read a little, abandoned; requests cut mid-way. */
const abandonedStreams: Scenario = {
  name: "abandoned-streams",
  weight: 2,
  run: async (ctx) => {
    const ev = await rawRequest(ctx.sock, { method: "GET", path: `${V}/events?since=0` });
    await readSome(ev, 512, 2000);
    const evLive = await rawRequest(ctx.sock, { method: "GET", path: `${V}/events` });
    await withContainer(ctx, ["sleep", "30"], {}, async (id) => {
      await start(ctx, id);
      const st = await rawRequest(ctx.sock, { method: "GET", path: `${V}/containers/${id}/stats?stream=1` });
      await readSome(st, 1, 5000);
      st.socket.destroy();
      const st2 = await rawRequest(ctx.sock, { method: "GET", path: `${V}/containers/${id}/stats?stream=1` });
      st2.socket.destroy(); // before the first sample
    });
    ev.socket.destroy();
    evLive.socket.destroy(); // never read: its events were queued for nobody
    // A request whose client leaves before the body is complete.
    const { socket } = await rawRequest(ctx.sock, { method: "GET", path: `${V}/containers/json?all=1` });
    socket.destroy();
    await new Promise<void>((resolve) => {
      const s = net.connect(ctx.sock, () => {
        s.write(`POST ${V}/containers/create HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{"Image":`);
        setTimeout(() => {
          s.destroy();
          resolve();
        }, 50);
      });
      s.once("error", () => resolve());
    });
  },
};

/** Sends `head` (and no more) on a fresh connection, then vanishes after `ms`. */
function cutAfter(sock: string, head: string, ms: number, halfClose = false): Promise<void> {
  return new Promise<void>((resolve) => {
    const s = net.connect(sock, () => {
      s.write(head);
      if (halfClose) s.end();
      setTimeout(() => {
        s.destroy();
        resolve();
      }, ms);
    });
    s.once("error", () => resolve());
  });
}

/**
 * Hijacks cut at every stage: an exec start whose body never completes (with a
 * FIN, then without), attach requests dropped before and right after the 101,
 * and an exec whose client half-closes at once and leaves.
 */
const cutHijacks: Scenario = {
  name: "cut-hijacks",
  weight: 2,
  run: (ctx) =>
    withContainer(ctx, ["sleep", "30"], { stdin: true }, async (id) => {
      await start(ctx, id);
      const ex = await ctx.api.json<{ Id: string }>("POST", `/containers/${id}/exec`, { body: { Cmd: ["seq", "1", "20000"], AttachStdout: true, AttachStderr: true } });
      const up = (path: string, len: number) =>
        `POST ${V}${path} HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Type: application/json\r\nContent-Length: ${len}\r\n\r\n`;
      await cutAfter(ctx.sock, up(`/exec/${ex.Id}/start`, 100) + '{"Detach":', 30, true);
      await cutAfter(ctx.sock, up(`/exec/${ex.Id}/start`, 100) + '{"Detach":', 30);
      await cutAfter(ctx.sock, up(`/containers/${id}/attach?stream=1&stdin=1&stdout=1`, 0), 0);
      await cutAfter(ctx.sock, up(`/containers/${id}/attach?stream=1&stdin=1&stdout=1`, 0), 20);
      const ex2 = await ctx.api.json<{ Id: string }>("POST", `/containers/${id}/exec`, { body: { Cmd: ["seq", "1", "20000"], AttachStdout: true, AttachStderr: true } });
      const body = '{"Detach":false,"Tty":false}';
      await cutAfter(ctx.sock, up(`/exec/${ex2.Id}/start`, body.length) + body, 5, true);
    }),
};

async function sh(cmd: string[], env: Record<string, string> = {}): Promise<string> {
  const p = Bun.spawn(cmd, { stdout: "pipe", stderr: "pipe", stdin: "ignore", env: { ...process.env, ...env } });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  if (code !== 0) throw new Error(`${cmd.slice(0, 4).join(" ")}: exit ${code}: ${err.trim().slice(0, 300)}`);
  return out;
}

/** The docker CLI (28): run --rm, a detached run with exec and logs, ps. */
const dockerCli: Scenario = {
  name: "docker-cli",
  weight: 1,
  run: async (ctx) => {
    if (!ctx.have.docker) return;
    const d = (args: string[]) => sh(["docker", "-H", `unix://${ctx.sock}`, ...args]);
    const out = await d(["run", "--rm", "--network", "none", ctx.image, "echo", "hi"]);
    if (out !== "hi\n") throw new Error(`docker run printed ${JSON.stringify(out)}`);
    const name = uniq(ctx, "cli");
    await d(["run", "-d", "--name", name, "--network", "none", ctx.image, "sleep", "30"]);
    try {
      await d(["exec", name, "sh", "-c", "echo exec"]);
      await d(["logs", name]);
      await d(["ps", "-a"]);
    } finally {
      await d(["rm", "-f", name]).catch(() => {});
    }
  },
};

/** dockerode: list, create/start/wait/logs/remove, as Node apps do. */
const dockerode: Scenario = {
  name: "dockerode",
  weight: 1,
  run: async (ctx) => {
    const docker = new Docker({ socketPath: ctx.sock });
    await docker.listContainers({ all: true });
    const c = await docker.createContainer({ Image: ctx.image, Cmd: ["sh", "-c", "echo node"], name: uniq(ctx, "node"), HostConfig: { NetworkMode: "none" } });
    try {
      await c.start();
      await c.wait();
      await c.logs({ stdout: true, stderr: true });
      await c.inspect();
    } finally {
      await c.remove({ force: true }).catch(() => {});
    }
  },
};

const PY = `
import docker, sys
c = docker.DockerClient(base_url="unix://" + sys.argv[1], version="1.41")
name = sys.argv[3]
k = c.containers.run(sys.argv[2], ["sleep", "30"], name=name, detach=True, network_mode="none")
try:
    r = k.exec_run(["sh", "-c", "echo py"])
    assert r.exit_code == 0, r
    k.logs()
    c.containers.list(all=True)
    c.images.list()
    n = c.networks.create(name + "-net")
    n.remove()
finally:
    k.remove(force=True)
`;

/** python3-docker (docker-py 5): run detached, exec_run, logs, lists, a network. */
const pythonDocker: Scenario = {
  name: "python-docker",
  weight: 1,
  run: async (ctx) => {
    if (!ctx.have.python) return;
    await sh(["python3", "-c", PY, ctx.sock, ctx.image, uniq(ctx, "py")]);
  },
};

export const SCENARIOS: Scenario[] = [lifecycle, stalledReaders, execs, stdinAttach, networks, volumes, pulls, abandonedStreams, cutHijacks, dockerCli, dockerode, pythonDocker];

/** A scenario drawn by weight. */
export function pick(rnd: () => number, list = SCENARIOS): Scenario {
  const total = list.reduce((a, s) => a + s.weight, 0);
  let x = rnd() * total;
  for (const s of list) if ((x -= s.weight) < 0) return s;
  return list[list.length - 1]!;
}
