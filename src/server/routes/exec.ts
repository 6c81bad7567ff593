import type { Readable } from "node:stream";
import type { Context } from "hono";
import type { App, ApiDeps, AppEnv } from "../app.ts";
import type { Engine } from "../../engine/engine.ts";
import { decodeBody, intQuery } from "../request.ts";
import { ExecCreateBody, ExecStartBody } from "../schemas/index.ts";
import { frame } from "../stdcopy.ts";
import { openRaw } from "./raw.ts";
import { ENDS_WITH_STATUS_HEADER } from "./attach-run.ts";
import type { RawConn } from "../hijack.ts";
import { ExecCreateJob, ExecInspectJob, ExecResizeJob, ExecStartJob } from "../../engine/containers/jobs.ts";
import type { ExecConfig } from "../../engine/containers/ports.ts";
import { DetachWatcher, detachKeysOrThrow } from "../../engine/containers/detach-keys.ts";

/** On the 101 of an exec create with start=1: the id of the exec it made (for inspect or resize). */
export const EXEC_ID_HEADER = "X-Ctr-Exec-Id";

export function execRoutes(app: App, { engine }: ApiDeps): void {
  app.post("/containers/:id/exec", async (c) => {
    const config = (await decodeBody(c, ExecCreateBody)) as ExecConfig;
    const created = await engine.run(ExecCreateJob, { ref: c.req.param("id"), config });
    // ctr's exec: on an upgrade, start=1 (no TTY, attached) makes the answer the exec's conversation
    // with status=1, so `ctr exec` is one request; a daemon without it answers 201 (dockerd, older ctr).
    if (!c.env?.hijack || c.req.query("start") !== "1" || config.Tty) return c.json(created, 201);
    return start(c, engine, created.Id, { Detach: false, Tty: false }, true, { [EXEC_ID_HEADER]: created.Id });
  });
  app.get("/exec/:id/json", async (c) => c.json(await engine.run(ExecInspectJob, { id: c.req.param("id") })));
  app.post("/exec/:id/resize", async (c) => {
    await engine.run(ExecResizeJob, { id: c.req.param("id"), rows: intQuery(c, "h") ?? 24, cols: intQuery(c, "w") ?? 80 });
    return c.body(null, 200);
  });
  app.post("/exec/:id/start", async (c) => start(c, engine, c.req.param("id"), await decodeBody(c, ExecStartBody), c.req.query("status") === "1"));
}

/**
 * POST /exec/{id}/start, and the end of ctr's create with start=1: the exec's
 * conversation (`extra` goes on its 101). `status` (ctr's, no TTY): the stream
 * ends with a stream-3 frame holding {"ExitCode"}, so `ctr exec` needs no
 * inspect afterwards (issue 16; cf. attach-run.ts). Docker's clients never send it.
 */
async function start(c: Context<AppEnv>, engine: Engine, id: string, body: ExecStartBody, wantStatus: boolean, extra: Record<string, string> = {}): Promise<Response> {
  const info = await engine.run(ExecInspectJob, { id });
  const tty = !!(body.Tty ?? info.ProcessConfig.tty);
  const status = !tty && wantStatus;
  const headers = status ? { [ENDS_WITH_STATUS_HEADER]: "1", ...extra } : extra;
  const end = async (conn: RawConn) => {
    if (status) {
      const { ExitCode } = await engine.run(ExecInspectJob, { id });
      await conn.write(frame(3, new TextEncoder().encode(JSON.stringify({ ExitCode }))));
    }
    conn.end();
  };
  const started = await engine.run(ExecStartJob, { id }).catch((e: unknown) => e as Error);
  if (started instanceof Error) {
    // dockerd has already hijacked when the process fails to start: the message goes down the
    // stream (stdout) and the exec's ExitCode (127/126) is what the client exits with.
    if (body.Detach || typeof (started as { exitCode?: unknown }).exitCode !== "number") throw started;
    const { conn, response } = openRaw(c, tty, headers);
    const msg = new TextEncoder().encode(`${started.message}\r\n`);
    conn.write(tty ? msg : frame(1, msg));
    void end(conn);
    return response;
  }
  const { proc, done } = started;
  if (body.Detach) {
    proc.stdin?.end();
    void (async () => {
      await Promise.all([drain(proc.stdout), drain(proc.stderr)]);
    })();
    return c.body(null, 200);
  }
  const { conn, response } = openRaw(c, tty, headers);
  const forward = async (src: Readable | null, stream: 1 | 2) => {
    if (!src) return;
    try {
      for await (const chunk of src) await conn.write(tty ? (chunk as Uint8Array) : frame(stream, chunk as Uint8Array));
    } catch {
      // pty master reads EIO once the last slave closes
    }
  };
  if (proc.stdin && conn.input && info.OpenStdin) {
    const stdin = proc.stdin;
    stdin.on("error", () => {});
    // With a TTY the detach keys end the session; the process runs on (as dockerd).
    const watcher = tty ? new DetachWatcher(detachKeysOrThrow(info.DetachKeys, (k) => `Invalid escape keys (${k}) provided`)) : null;
    conn.input.on("data", (d: Buffer) => {
      const pass = watcher ? watcher.feed(d) : d;
      if (pass.length) stdin.write(pass);
      if (watcher?.detached) conn.end();
    });
    conn.input.on("end", () => {
      if (!watcher?.detached) stdin.end();
    });
  } else proc.stdin?.end();
  void (async () => {
    await Promise.all([forward(proc.stdout, 1), forward(proc.stderr, 2), done]);
    await end(conn); // only now: the CLI reads ExitCode right after the stream closes
  })();
  return response;
}

async function drain(src: Readable | null): Promise<void> {
  if (!src) return;
  try {
    for await (const _ of src) {
      // discard: a detached exec's output goes nowhere, as in dockerd
    }
  } catch {}
}
