import type { Readable } from "node:stream";
import type { App, ApiDeps } from "../app.ts";
import { decodeBody, intQuery } from "../request.ts";
import { ExecCreateBody, ExecStartBody } from "../schemas/index.ts";
import { frame } from "../stdcopy.ts";
import { openRaw } from "./raw.ts";
import { ENDS_WITH_STATUS_HEADER } from "./attach-run.ts";
import type { RawConn } from "../hijack.ts";
import { ExecCreateJob, ExecInspectJob, ExecResizeJob, ExecStartJob } from "../../engine/containers/jobs.ts";
import type { ExecConfig } from "../../engine/containers/ports.ts";
import { DetachWatcher, detachKeysOrThrow } from "../../engine/containers/detach-keys.ts";

export function execRoutes(app: App, { engine }: ApiDeps): void {
  app.post("/containers/:id/exec", async (c) => {
    const config = (await decodeBody(c, ExecCreateBody)) as ExecConfig;
    return c.json(await engine.run(ExecCreateJob, { ref: c.req.param("id"), config }), 201);
  });
  app.get("/exec/:id/json", async (c) => c.json(await engine.run(ExecInspectJob, { id: c.req.param("id") })));
  app.post("/exec/:id/resize", async (c) => {
    await engine.run(ExecResizeJob, { id: c.req.param("id"), rows: intQuery(c, "h") ?? 24, cols: intQuery(c, "w") ?? 80 });
    return c.body(null, 200);
  });
  app.post("/exec/:id/start", async (c) => {
    const id = c.req.param("id");
    const body = await decodeBody(c, ExecStartBody);
    const info = await engine.run(ExecInspectJob, { id });
    const tty = !!(body.Tty ?? info.ProcessConfig.tty);
    // ctr's own `status=1` (no TTY): the stream ends with a stream-3 frame holding {"ExitCode"}, so
    // `ctr exec` needs no inspect afterwards (issue 16; cf. attach-run.ts). Docker's clients never send it.
    const status = !tty && c.req.query("status") === "1";
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
      const { conn, response } = openRaw(c, tty, status ? { [ENDS_WITH_STATUS_HEADER]: "1" } : {});
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
    const { conn, response } = openRaw(c, tty, status ? { [ENDS_WITH_STATUS_HEADER]: "1" } : {});
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
  });
}

async function drain(src: Readable | null): Promise<void> {
  if (!src) return;
  try {
    for await (const _ of src) {
      // discard: a detached exec's output goes nowhere, as in dockerd
    }
  } catch {}
}
