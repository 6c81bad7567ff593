// dockerode (docker-modem over the unix socket, as Node scripts drive Docker)
// differential: each scenario runs the same calls against Debian's dockerd and
// against ctr (API pinned to 1.41 on both), and the outcomes — answers,
// outputs, error status codes and messages — are normalised and compared. A
// difference not listed in intended-differences.ts fails.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { Readable } from "node:stream";
import Docker from "dockerode";
import type { TestDaemon } from "../helpers/daemon.ts";
import { dockerdSkipReason, startPeers, stopPeers, type TestDockerd } from "../helpers/dockerd.ts";
import { differences, normalise } from "../helpers/normalise.ts";
import type { RunningRegistry } from "../helpers/registry.ts";
import { intended } from "./intended-differences.ts";
import { demux } from "../helpers/dockerode.ts";
import { frames } from "../helpers/stdcopy.ts";

setDefaultTimeout(120_000);
const skip = dockerdSkipReason;
if (skip) console.warn(`skip: differential dockerode: ${skip}`);

/** An API error as status and message, a success as its value. */
async function outcome<T>(p: Promise<T>): Promise<T | { status: number; message: string }> {
  try {
    return await p;
  } catch (e) {
    const err = e as { statusCode?: number; json?: { message?: string }; message?: string };
    return { status: err.statusCode ?? -1, message: err.json?.message ?? String(err.message) };
  }
}

/** stdout and stderr of a multiplexed stream, once it ends. */
async function collect(docker: Docker, stream: Readable): Promise<{ stdout: string; stderr: string }> {
  const io = demux(docker, stream);
  await new Promise<void>((resolve, reject) => {
    stream.on("end", () => resolve());
    stream.on("close", () => resolve());
    stream.on("error", reject);
  });
  return io.text();
}

/** Lines of both streams, each stream's in order (they are two pipes: their interleaving is not fixed). */
const byStream = (f: { stream: number; text: string }[]) => ({ stdout: f.filter((x) => x.stream === 1).map((x) => x.text), stderr: f.filter((x) => x.stream === 2).map((x) => x.text) });

type Scenario = (docker: Docker, bb: string) => Promise<Record<string, unknown>>;

const SCENARIOS: Record<string, Scenario> = {
  async containers(docker, bb) {
    const out: Record<string, unknown> = {};
    const c = await docker.createContainer({ Image: bb, name: "ode1", Cmd: ["sh", "-c", "echo out; echo err >&2; exit 3"], Labels: { app: "ode" }, Env: ["A=b"], WorkingDir: "/tmp" });
    const created = await c.inspect();
    out.created = { State: created.State, Config: created.Config, Name: created.Name, RestartCount: created.RestartCount, Path: created.Path, Args: created.Args };
    out.start = await outcome(c.start());
    out.wait = await c.wait();
    const done = await c.inspect();
    out.exited = { Status: done.State.Status, ExitCode: done.State.ExitCode, Running: done.State.Running, OOMKilled: done.State.OOMKilled };
    out.logs = byStream(frames((await c.logs({ stdout: true, stderr: true, follow: false })) as unknown as Buffer));
    out.logsTail = byStream(frames((await c.logs({ stdout: true, stderr: true, tail: 2, follow: false })) as unknown as Buffer));
    out.startAgain = await outcome(c.start());
    out.waitAgain = await c.wait();
    const listed = await docker.listContainers({ all: true, filters: { label: ["app=ode"] } });
    out.list = listed.map((x) => ({ Names: x.Names, Image: x.Image, Command: x.Command, State: x.State, Labels: x.Labels, Status: x.Status.replace(/\d+ \w+ ago/, "<ago>") }));
    out.listNone = await docker.listContainers({ all: true, filters: { label: ["app=ode", "other=1"] } });
    out.rename = await outcome(c.rename({ name: "ode2" }));
    out.renamed = (await c.inspect()).Name;
    out.notFound = await outcome(docker.getContainer("nope").inspect());
    out.badCreate = await outcome(docker.createContainer({ Image: "nope:none", Cmd: ["true"] }));
    out.nameTaken = await outcome(docker.createContainer({ Image: bb, name: "ode2", Cmd: ["true"] }));
    const running = await docker.createContainer({ Image: bb, name: "ode3", Cmd: ["sleep", "100"] });
    await running.start();
    out.removeRunning = await outcome(running.remove());
    out.stop = await outcome(running.stop({ t: 1 }));
    out.stopAgain = await outcome(running.stop({ t: 1 }));
    out.removed = await outcome(running.remove());
    out.remove = await outcome(c.remove());
    out.removeGone = await outcome(c.remove());
    return out;
  },

  async exec(docker, bb) {
    const out: Record<string, unknown> = {};
    const c = await docker.createContainer({ Image: bb, name: "odex", Cmd: ["sleep", "100"], Env: ["C=1"] });
    await c.start();
    const e = await c.exec({ Cmd: ["sh", "-c", "echo $C $X $(pwd); echo e >&2; exit 4"], AttachStdout: true, AttachStderr: true, Env: ["X=2"], WorkingDir: "/tmp" });
    out.output = await collect(docker, (await e.start({})) as unknown as Readable);
    const info = await e.inspect();
    out.inspect = { ExitCode: info.ExitCode, Running: info.Running, OpenStdin: info.OpenStdin, OpenStdout: info.OpenStdout, ProcessConfig: info.ProcessConfig };
    const missing = await c.exec({ Cmd: ["/no/such"], AttachStdout: true, AttachStderr: true });
    await collect(docker, (await missing.start({})) as unknown as Readable);
    out.missingExit = (await missing.inspect()).ExitCode;
    out.noExec = await outcome(docker.getExec("0123456789abcdef").inspect());
    await c.stop({ t: 1 });
    out.onStopped = await outcome(c.exec({ Cmd: ["true"] }));
    await c.remove();
    return out;
  },

  async networks(docker, bb) {
    const out: Record<string, unknown> = {};
    const n = await docker.createNetwork({ Name: "oden", Labels: { k: "v" }, Internal: true, IPAM: { Config: [{ Subnet: "10.231.7.0/24" }] } } as Docker.NetworkCreateOptions);
    const info = await n.inspect();
    out.inspect = { ...info, Id: typeof info.Id, Created: typeof info.Created };
    // CheckDuplicate: without it dockerd 20.10 makes a second network of the same name (see intended-differences).
    out.twice = await outcome(docker.createNetwork({ Name: "oden", CheckDuplicate: true } as Docker.NetworkCreateOptions));
    out.list = (await docker.listNetworks({ filters: { label: ["k=v"] } })).map((x) => x.Name);
    const c = await docker.createContainer({ Image: bb, name: "oden-c", Cmd: ["sleep", "100"] });
    out.connectCreated = await outcome(n.connect({ Container: c.id, EndpointConfig: { Aliases: ["al"] } }));
    await c.start();
    const ci = await c.inspect();
    const ep = ci.NetworkSettings.Networks["oden"] as Record<string, unknown> | undefined;
    out.endpoint = ep && { ...ep, NetworkID: typeof ep.NetworkID, EndpointID: typeof ep.EndpointID };
    out.containers = Object.values((await n.inspect()).Containers ?? {}).map((x: any) => ({ Name: x.Name, IPv4Address: x.IPv4Address }));
    out.removeInUse = await outcome(n.remove());
    out.disconnect = await outcome(n.disconnect({ Container: c.id }));
    out.disconnectAgain = await outcome(n.disconnect({ Container: c.id }));
    await c.remove({ force: true });
    out.remove = await outcome(n.remove());
    out.removeGone = await outcome(n.remove());
    out.pruneNothing = await docker.pruneNetworks();
    await docker.createNetwork({ Name: "oden-p", Labels: { p: "1" } });
    out.prune = await docker.pruneNetworks({ filters: { label: ["p=1"] } });
    return out;
  },

  async volumes(docker, bb) {
    const out: Record<string, unknown> = {};
    await docker.createVolume({ Name: "odev", Labels: { k: "v" } });
    const vi = (await docker.getVolume("odev").inspect()) as unknown as Record<string, unknown>;
    out.inspect = { ...vi, Mountpoint: typeof vi.Mountpoint, CreatedAt: typeof vi.CreatedAt };
    const list = await docker.listVolumes({ filters: { label: ["k=v"] } });
    out.list = { Volumes: list.Volumes.map((x) => x.Name), Warnings: list.Warnings };
    const c = await docker.createContainer({ Image: bb, name: "odev-c", Cmd: ["sh", "-c", "echo hi > /data/f; cat /data/f"], HostConfig: { Binds: ["odev:/data"] } });
    await c.start();
    await c.wait();
    out.used = byStream(frames((await c.logs({ stdout: true, stderr: true, follow: false })) as unknown as Buffer));
    out.inUse = await outcome(docker.getVolume("odev").remove());
    await c.remove();
    out.remove = await outcome(docker.getVolume("odev").remove());
    out.removeGone = await outcome(docker.getVolume("odev").remove());
    await docker.createVolume({ Name: "odev-p", Labels: { p: "1" } });
    const pruned = await docker.pruneVolumes({ filters: { label: ["p=1"] } });
    out.prune = pruned;
    return out;
  },

  async images(docker, bb) {
    const out: Record<string, unknown> = {};
    const img = await docker.getImage(bb).inspect();
    out.inspect = { RepoTags: img.RepoTags, Config: img.Config, Architecture: img.Architecture, Os: img.Os, Size: img.Size, RootFS: img.RootFS.Type };
    out.history = (await docker.getImage(bb).history()).map((h: Record<string, unknown>) => ({ CreatedBy: h.CreatedBy, Size: h.Size, Tags: h.Tags }));
    out.tag = await outcome(docker.getImage(bb).tag({ repo: "ode/retag", tag: "v1" }));
    out.listRef = (await docker.listImages({ filters: { reference: ["ode/retag"] } })).map((i) => i.RepoTags);
    out.removeTag = ((await docker.getImage("ode/retag:v1").remove()) as { Untagged?: string }[]).map((x) => Object.keys(x));
    out.notFound = await outcome(docker.getImage("nope:none").inspect());
    out.removeMissing = await outcome(docker.getImage("nope:none").remove());
    const c = await docker.createContainer({ Image: bb, name: "odei", Cmd: ["true"] });
    out.removeUsed = await outcome(docker.getImage(img.Id).remove());
    await c.remove();
    return out;
  },
};

describe.skipIf(!!skip)("differential dockerode: dockerd vs ctr", () => {
  let reg: RunningRegistry;
  let bb: string;
  let ctr: TestDaemon;
  let dkr: TestDockerd;
  let clients: Docker[];

  beforeAll(async () => {
    ({ reg, bb, ctr, dkr } = await startPeers());
    clients = [dkr.sock, ctr.sock].map((socketPath) => new Docker({ socketPath, version: "v1.41" }));
    for (const d of clients) {
      const stream = (await d.pull(bb)) as Readable;
      await new Promise((res, rej) => d.modem.followProgress(stream, (e: Error | null) => (e ? rej(e) : res(null))));
    }
  });
  afterAll(async () => {
    for (const d of clients ?? []) {
      for (const c of await d.listContainers({ all: true }).catch(() => [])) await d.getContainer(c.Id).remove({ force: true }).catch(() => {});
      await d.pruneNetworks().catch(() => {});
      await d.pruneVolumes().catch(() => {});
    }
    await stopPeers({ reg, ctr, dkr });
  });

  for (const [name, scenario] of Object.entries(SCENARIOS)) {
    test(name, async () => {
      const got: unknown[] = [];
      // One daemon after the other: both choose subnets and ports from the same host.
      for (const client of clients) got.push(normalise(await scenario(client, bb), { replace: { [bb]: "<busybox>" } }));
      const diff = differences(got[0], got[1]).filter((p) => !intended(`dockerode/${name}/${p}`));
      if (diff.length) console.error(`dockerode/${name}:\ndockerd ${JSON.stringify(got[0])}\nctr     ${JSON.stringify(got[1])}`);
      expect(diff.map((p) => `${p}: dockerd ${JSON.stringify(at(got[0], p))} ctr ${JSON.stringify(at(got[1], p))}`)).toEqual([]);
    });
  }
});

function at(v: unknown, path: string): unknown {
  return path.split(/[.[\]]/).filter(Boolean).reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], v);
}
