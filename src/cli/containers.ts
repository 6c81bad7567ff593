import type { Cli, Command } from "./parser.ts";
import { messageOfText, type ApiClient, type Hijacked, type Query } from "../client/client.ts";
import type { RunEnd } from "../server/routes/attach-run.ts";

/** The 101 header of a daemon that ends run/exec streams with the status (server/routes/attach-run.ts). */
const ENDS_WITH_STATUS = "x-ctr-ends-with-status";
/** The 101 header of an exec create with start=1: the exec it made (server/routes/exec.ts). */
const EXEC_ID = "x-ctr-exec-id";
import { ApiError } from "../client/errors.ts";
import { CliExit, list, type CliContext } from "./context.ts";
import { createBody, createOptions, type CreateFlags } from "./create-options.ts";
import { pumpAttached } from "./attach-stream.ts";
import { detachKeys, detachKeysOption } from "./detach-keys.ts";

function addOptions(cmd: Command, specs: { flags: string; description: string }[]) {
  for (const s of specs) cmd.option(s.flags, s.description);
  return cmd;
}

/** POST /containers/create, pulling the image first when the daemon says it is missing (as docker run does). */
export async function createContainer(client: ApiClient, name: string | undefined, body: Record<string, unknown>, platform?: string): Promise<string> {
  const create = () => client.json<{ Id: string; Warnings: string[] }>("POST", "/containers/create", { query: { name }, body });
  try {
    return (await create()).Id;
  } catch (e) {
    if (!(e instanceof ApiError) || e.status !== 404 || !/No such image/.test(e.message)) throw e;
    process.stderr.write(`Unable to find image '${qualified(String(body.Image))}' locally\n`);
    await pull(client, String(body.Image), platform);
    return (await create()).Id;
  }
}

/** The pull a run or create needs first; its module (credentials, node:fs) only then. */
async function pull(client: ApiClient, image: string, platform: string | undefined): Promise<void> {
  const { pullWithProgress } = await import("./pull-progress.ts");
  await pullWithProgress(client, image, { platform, out: process.stderr });
}

function qualified(ref: string): string {
  return /:[^/]+$|@/.test(ref) ? ref : `${ref}:latest`;
}

function resizer(client: ApiClient, path: string): () => void {
  const send = () => {
    if (!process.stdout.isTTY) return;
    void client.request("POST", path, { query: { h: process.stdout.rows, w: process.stdout.columns } }).catch(() => {});
  };
  process.stdout.on("resize", send);
  return send;
}

export function registerContainers(cli: Cli, ctx: CliContext): void {
  addOptions(
    cli
      .command("run <image> [...command]", "Create and run a new container from an image")
      .option("-d, --detach", "Run container in background and print container ID")
      .option("--rm", "Automatically remove the container when it exits")
      .option(detachKeysOption.flags, detachKeysOption.description),
    createOptions,
  ).action(async (image: string, command: string[], f: CreateFlags & { detach?: boolean; rm?: boolean; detachKeys?: string }) => {
    const client = await ctx.client();
    const cmd = [...command, ...(f["--"] ?? [])];
    const attach = { stdin: !!f.interactive && !f.detach, stdout: !f.detach, stderr: !f.detach };
    const body = createBody(image, cmd, f, attach, !!f.rm);
    const condition = f.rm ? "removed" : "next-exit";
    const tty = !!f.tty;
    const attachQuery = { stream: 1, stdin: attach.stdin ? 1 : undefined, stdout: 1, stderr: 1, detachKeys: await detachKeys(f.detachKeys) };
    if (!tty && !f.detach) return createAndRun(client, f.name, body, f.platform, attachQuery, condition, attach.stdin);
    let id: string;
    try {
      id = await createContainer(client, f.name, body, f.platform);
    } catch (e) {
      throw exit125(e);
    }
    if (f.detach) {
      await start(client, id);
      console.log(id);
      return;
    }
    const hijacked = await client.hijack(`/containers/${id}/attach`, attachQuery);
    // Register the wait before start (headers come back at once), so a fast exit is never missed.
    const waited = (await client.request("POST", `/containers/${id}/wait`, { query: { condition } })).text().catch(() => "");
    await start(client, id).catch((e) => {
      hijacked.socket.destroy();
      throw e;
    });
    resizer(client, `/containers/${id}/resize`)();
    await pumpAttached(hijacked, { tty, stdin: attach.stdin });
    throw exitOf(JSON.parse((await waited) || "{}"));
  });

  addOptions(cli.command("create <image> [...command]", "Create a new container"), createOptions).action(
    async (image: string, command: string[], f: CreateFlags) => {
      const client = await ctx.client();
      const body = createBody(image, [...command, ...(f["--"] ?? [])], f, { stdin: !!f.interactive, stdout: true, stderr: true }, false);
      console.log(await createContainer(client, f.name, body, f.platform));
    },
  );

  cli
    .command("start [...containers]", "Start one or more stopped containers")
    .option("-a, --attach", "Attach STDOUT/STDERR and forward signals")
    .option("-i, --interactive", "Attach container's STDIN")
    .option(detachKeysOption.flags, detachKeysOption.description)
    .action(async (ids: string[], f: { attach?: boolean; interactive?: boolean; detachKeys?: string }) => {
      const client = await ctx.client();
      if (f.attach || f.interactive) {
        const id = ids[0]!;
        const info = await client.json<{ Id: string; Config: { Tty: boolean } }>("GET", `/containers/${id}/json`);
        const h = await client.hijack(`/containers/${info.Id}/attach`, { stream: 1, stdout: 1, stderr: 1, stdin: f.interactive ? 1 : undefined, detachKeys: await detachKeys(f.detachKeys) });
        const waited = (await client.request("POST", `/containers/${info.Id}/wait`, { query: { condition: "next-exit" } })).text();
        await client.request("POST", `/containers/${info.Id}/start`);
        await pumpAttached(h, { tty: info.Config.Tty, stdin: !!f.interactive });
        throw new CliExit(JSON.parse((await waited) || "{}").StatusCode ?? 0);
      }
      await forEachArg(ids, async (id) => {
        await client.request("POST", `/containers/${id}/start`);
        console.log(id);
      });
    });

  cli
    .command("stop [...containers]", "Stop one or more running containers")
    .option("-t, --time <seconds>", "Seconds to wait before killing the container")
    .option("-s, --signal <signal>", "Signal to send to the container")
    .action(async (ids: string[], f: { time?: number; signal?: string }) => {
      const client = await ctx.client();
      await forEachArg(ids, async (id) => {
        await client.request("POST", `/containers/${id}/stop`, { query: { t: f.time, signal: f.signal } });
        console.log(id);
      });
    });

  cli
    .command("restart [...containers]", "Restart one or more containers")
    .option("-t, --time <seconds>", "Seconds to wait before killing the container")
    .action(async (ids: string[], f: { time?: number }) => {
      const client = await ctx.client();
      await forEachArg(ids, async (id) => {
        await client.request("POST", `/containers/${id}/restart`, { query: { t: f.time } });
        console.log(id);
      });
    });

  cli
    .command("kill [...containers]", "Kill one or more running containers")
    .option("-s, --signal <signal>", "Signal to send to the container")
    .action(async (ids: string[], f: { signal?: string }) => {
      const client = await ctx.client();
      await forEachArg(ids, async (id) => {
        await client.request("POST", `/containers/${id}/kill`, { query: { signal: f.signal } });
        console.log(id);
      });
    });

  for (const verb of ["pause", "unpause"] as const) {
    cli.command(`${verb} [...containers]`, `${verb === "pause" ? "Pause" : "Unpause"} all processes within one or more containers`).action(async (ids: string[]) => {
      const client = await ctx.client();
      await forEachArg(ids, async (id) => {
        await client.request("POST", `/containers/${id}/${verb}`);
        console.log(id);
      });
    });
  }

  cli
    .command("rm [...containers]", "Remove one or more containers")
    .option("-f, --force", "Force the removal of a running container (uses SIGKILL)")
    .option("-v, --volumes", "Remove anonymous volumes associated with the container")
    .action(async (ids: string[], f: { force?: boolean; volumes?: boolean }) => {
      const client = await ctx.client();
      await forEachArg(ids, async (id) => {
        await client.request("DELETE", `/containers/${id}`, { query: { force: f.force ? 1 : undefined, v: f.volumes ? 1 : undefined } });
        console.log(id);
      });
    });

  cli.command("rename <container> <name>", "Rename a container").action(async (id: string, name: string) => {
    const client = await ctx.client();
    await client.request("POST", `/containers/${id}/rename`, { query: { name } });
  });

  cli.command("wait [...containers]", "Block until one or more containers stop, then print their exit codes").action(async (ids: string[]) => {
    const client = await ctx.client();
    await forEachArg(ids, async (id) => {
      const r = await client.json<{ StatusCode: number }>("POST", `/containers/${id}/wait`);
      console.log(r.StatusCode);
    });
  });

  cli
    .command("attach <container>", "Attach local standard input, output, and error streams to a running container")
    .option("--no-stdin", "Do not attach STDIN")
    .option(detachKeysOption.flags, detachKeysOption.description)
    .action(async (id: string, f: { stdin?: boolean; detachKeys?: string }) => {
      const client = await ctx.client();
      const info = await client.json<{ Id: string; State: { Running: boolean }; Config: { Tty: boolean; OpenStdin: boolean } }>("GET", `/containers/${id}/json`);
      if (!info.State.Running) throw new CliExit(1, "You cannot attach to a stopped container, start it first");
      const stdin = f.stdin !== false && info.Config.OpenStdin;
      const h = await client.hijack(`/containers/${info.Id}/attach`, { stream: 1, stdout: 1, stderr: 1, stdin: stdin ? 1 : undefined, detachKeys: await detachKeys(f.detachKeys) });
      const waited = (await client.request("POST", `/containers/${info.Id}/wait`)).text();
      if (info.Config.Tty) resizer(client, `/containers/${info.Id}/resize`)();
      await pumpAttached(h, { tty: info.Config.Tty, stdin });
      throw new CliExit(JSON.parse((await waited) || "{}").StatusCode ?? 0);
    });

  cli
    .command("exec <container> [...command]", "Execute a command in a running container")
    .option("-d, --detach", "Detached mode: run command in the background")
    .option("-i, --interactive", "Keep STDIN open even if not attached")
    .option("-t, --tty", "Allocate a pseudo-TTY")
    .option("-u, --user <user>", "Username or UID (format: <name|uid>[:<group|gid>])")
    .option("-w, --workdir <dir>", "Working directory inside the container")
    .option("-e, --env <var>", "Set environment variables")
    .option("--privileged", "Give extended privileges to the command")
    .option(detachKeysOption.flags, detachKeysOption.description)
    .action(async (id: string, command: string[], f: { detach?: boolean; interactive?: boolean; tty?: boolean; user?: string; workdir?: string; env?: unknown; privileged?: boolean; detachKeys?: string; "--"?: string[] }) => {
      const client = await ctx.client();
      const cmd = [...command, ...(f["--"] ?? [])];
      if (!cmd.length) throw new CliExit(1, `"ctr exec" requires at least 2 arguments.`);
      const keys = await detachKeys(f.detachKeys);
      const tty = !!f.tty;
      const size = tty && process.stdout.isTTY ? [process.stdout.rows, process.stdout.columns] : undefined;
      const body = {
        User: f.user ?? "",
        Privileged: !!f.privileged,
        Tty: tty,
        ConsoleSize: size,
        AttachStdin: !!f.interactive && !f.detach,
        AttachStdout: !f.detach,
        AttachStderr: !f.detach,
        Detach: !!f.detach,
        Env: list(f.env),
        WorkingDir: f.workdir ?? "",
        Cmd: cmd,
        ...(keys ? { DetachKeys: keys } : {}),
      };
      if (f.detach) {
        const { Id } = await client.json<{ Id: string }>("POST", `/containers/${id}/exec`, { body });
        await client.request("POST", `/exec/${Id}/start`, { body: { Detach: true, Tty: tty } });
        return;
      }
      const { h, Id } = tty ? await execStart(client, (await client.json<{ Id: string }>("POST", `/containers/${id}/exec`, { body })).Id, true, size) : await createAndStartExec(client, id, body);
      if (tty) resizer(client, `/exec/${Id}/resize`)();
      let status = "";
      const framed = h.headers.has(ENDS_WITH_STATUS);
      await pumpAttached(h, { tty, stdin: !!f.interactive, onStatus: framed ? (json) => (status = json) : undefined });
      const r = status ? (JSON.parse(status) as { ExitCode: number | null }) : await client.json<{ ExitCode: number | null }>("GET", `/exec/${Id}/json`);
      throw new CliExit(r.ExitCode ?? 0);
    });
}

/** The exec's start conversation; without a TTY it ends with the exit code (status=1, server/routes/exec.ts): no inspect after it. */
async function execStart(client: ApiClient, Id: string, tty: boolean, size?: number[]): Promise<{ h: Hijacked; Id: string }> {
  return { h: await client.hijack(`/exec/${Id}/start`, { status: tty ? undefined : 1 }, { Detach: false, Tty: tty, ConsoleSize: size }), Id };
}

/**
 * Without a TTY, one request: the create answers with the exec's start
 * conversation (ctr's start=1, server/routes/exec.ts; X-Ctr-Exec-Id names it).
 * A daemon without it (dockerd, an older ctr) answers the create alone: 201, then the start.
 */
async function createAndStartExec(client: ApiClient, container: string, body: Record<string, unknown>): Promise<{ h: Hijacked; Id: string }> {
  const r = await client.upgrade(`/containers/${container}/exec`, { start: 1 }, body);
  if ("socket" in r) return { h: r, Id: r.headers.get(EXEC_ID) ?? "" };
  if (r.status >= 400) throw new ApiError(r.status, messageOfText(r.body));
  return execStart(client, (JSON.parse(r.body) as { Id: string }).Id, false);
}

/** Runs `fn` for each container; reports each failure on its own line; exits 1 if any failed (like docker). */
export async function forEachArg(ids: string[], fn: (id: string) => Promise<void>): Promise<void> {
  if (!ids.length) throw new CliExit(1, "requires at least 1 argument");
  let failed = false;
  for (const id of ids) {
    try {
      await fn(id);
    } catch (e) {
      failed = true;
      console.error(e instanceof ApiError ? `Error response from daemon: ${e.message}` : `Error: ${(e as Error).message}`);
    }
  }
  if (failed) throw new CliExit(1);
}

/** The docker CLI's toStatusError: a command that is missing exits 127, one that cannot run 126, else 125. */
async function start(client: ApiClient, id: string): Promise<void> {
  try {
    await client.request("POST", `/containers/${id}/start`);
  } catch (e) {
    throw startFailed(e);
  }
}

/** What the wait answered, as the CLI's exit. */
function exitOf(r: RunEnd): CliExit {
  if (r.Error?.Message) return new CliExit(125, `Error waiting for container: ${r.Error.Message}`);
  return new CliExit(r.StatusCode ?? 0);
}

/**
 * Without a TTY, one request: the create answers with the attach, which
 * starts the container and ends with its exit status (ctr's create with run=,
 * server/routes/attach-run.ts). A daemon without it answers the create
 * alone (201): then the attach with run=, or Docker's order (runAttached).
 */
async function createAndRun(client: ApiClient, name: string | undefined, body: Record<string, unknown>, platform: string | undefined, query: Query, condition: string, stdin: boolean): Promise<never> {
  const create = () => client.upgrade("/containers/create", { name, ...query, run: condition }, body);
  let r: Awaited<ReturnType<typeof create>>;
  try {
    r = await create();
    if (!("socket" in r) && r.status === 404 && /No such image/.test(r.body)) {
      process.stderr.write(`Unable to find image '${qualified(String(body.Image))}' locally\n`);
      await pull(client, String(body.Image), platform);
      r = await create();
    }
  } catch (e) {
    throw exit125(e);
  }
  if ("socket" in r) return endRun(r, stdin);
  if (r.status >= 400) throw exit125(new ApiError(r.status, messageOfText(r.body)));
  return runAttached(client, (JSON.parse(r.body) as { Id: string }).Id, query, condition, stdin);
}

/**
 * Without a TTY, one conversation: the attach starts the container and ends
 * with its exit status (ctr's `run` attach, server/routes/attach-run.ts),
 * instead of attach, wait and start one after the other.
 */
async function runAttached(client: ApiClient, id: string, query: Query, condition: string, stdin: boolean): Promise<never> {
  const hijacked = await client.hijack(`/containers/${id}/attach`, { ...query, run: condition });
  if (!hijacked.headers.has(ENDS_WITH_STATUS)) {
    // A daemon without ctr's run (dockerd): Docker's order, wait then start.
    const waited = (await client.request("POST", `/containers/${id}/wait`, { query: { condition } })).text().catch(() => "");
    await start(client, id).catch((e) => {
      hijacked.socket.destroy();
      throw e;
    });
    await pumpAttached(hijacked, { tty: false, stdin });
    throw exitOf(JSON.parse((await waited) || "{}"));
  }
  return endRun(hijacked, stdin);
}

/** The rest of ctr's run conversation: the output, then the frame with the exit status (or the start's error). */
async function endRun(hijacked: Hijacked, stdin: boolean): Promise<never> {
  let status = "";
  await pumpAttached(hijacked, { tty: false, stdin, onStatus: (json) => (status = json) });
  if (!status) throw new CliExit(125, "Error: the daemon ended the attach without the container's exit status");
  const r = JSON.parse(status) as RunEnd;
  if (r.start) throw startFailed(new ApiError(r.start.status, r.start.message));
  throw exitOf(r);
}

function startFailed(e: unknown): CliExit {
  const base = exit125(e);
  if (/executable file not found|no such file or directory/.test(base.message)) return new CliExit(127, base.message);
  if (/permission denied/.test(base.message)) return new CliExit(126, base.message);
  return base;
}

function exit125(e: unknown): CliExit {
  const msg = e instanceof ApiError ? `Error response from daemon: ${e.message}` : `Error: ${(e as Error).message}`;
  return new CliExit(125, msg);
}
