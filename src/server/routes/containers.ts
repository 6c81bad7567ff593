import type { Context } from "hono";
import type { App, ApiDeps, AppEnv } from "../app.ts";
import type { Engine } from "../../engine/engine.ts";
import { boolQuery, decodeBody, filtersQuery, intQuery } from "../request.ts";
import { ContainerCreateBody, ContainerUpdateBody, signalParam } from "../schemas/index.ts";
import { BadRequestError } from "../errors.ts";
import { markStreaming, streamResponse } from "../stream.ts";
import { logFrames } from "../log-frames.ts";
import { frame } from "../stdcopy.ts";
import { openRaw } from "./raw.ts";
import { CONTAINER_ID_HEADER, ENDS_WITH_STATUS_HEADER, runCondition, startAndWait, type RunEnd } from "./attach-run.ts";
import {
  AttachJob,
  CreateJob,
  InspectJob,
  KillJob,
  ListJob,
  LogsJob,
  PauseJob,
  PruneJob,
  RemoveJob,
  RemoveLinkJob,
  RenameJob,
  UpdateJob,
  ResizeJob,
  RestartJob,
  StartJob,
  StatsJob,
  StopJob,
  TopJob,
  UnpauseJob,
  WaitJob,
} from "../../engine/containers/jobs.ts";
import type { WaitCondition } from "../../engine/containers/waits.ts";
import type { UpdateBody } from "../../engine/containers/update.ts";
import { DetachWatcher, detachKeysOrThrow } from "../../engine/containers/detach-keys.ts";

const VALID_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;
const CONDITIONS: WaitCondition[] = ["not-running", "next-exit", "removed"];

export function containerRoutes(app: App, { engine }: ApiDeps): void {
  app.post("/containers/create", async (c) => {
    const body = await decodeBody(c, ContainerCreateBody);
    // ctr's run (attach-run.ts): on an upgrade, run=<condition> makes the answer the container's attach.
    const run = c.env?.hijack ? runCondition(c.req.query("run"), boolQuery(c, "stream"), !!body.Tty) : undefined;
    const created = await engine.run(CreateJob, { name: c.req.query("name"), body });
    if (!run) return c.json(created, 201);
    return attach(c, engine, created.Id, { [CONTAINER_ID_HEADER]: created.Id });
  });
  app.get("/containers/json", async (c) =>
    c.json(await engine.run(ListJob, { all: boolQuery(c, "all"), limit: intQuery(c, "limit"), filters: filtersQuery(c), size: boolQuery(c, "size") })),
  );
  app.post("/containers/prune", async (c) => c.json(await engine.run(PruneJob, { filters: filtersQuery(c) })));
  app.get("/containers/:id/json", async (c) => c.json(await engine.run(InspectJob, { ref: c.req.param("id"), size: boolQuery(c, "size") })));

  const noContent = () => new Response(null, { status: 204 });
  app.post("/containers/:id/start", async (c) => {
    await engine.run(StartJob, { ref: c.req.param("id") });
    return noContent();
  });
  app.post("/containers/:id/stop", async (c) => {
    await engine.run(StopJob, { ref: c.req.param("id"), timeout: intQuery(c, "t") ?? intQuery(c, "timeout"), signal: signalParam(c.req.query("signal")) });
    return noContent();
  });
  app.post("/containers/:id/kill", async (c) => {
    await engine.run(KillJob, { ref: c.req.param("id"), signal: signalParam(c.req.query("signal")) });
    return noContent();
  });
  app.post("/containers/:id/restart", async (c) => {
    await engine.run(RestartJob, { ref: c.req.param("id"), timeout: intQuery(c, "t") ?? intQuery(c, "timeout") });
    return noContent();
  });
  app.post("/containers/:id/pause", async (c) => {
    await engine.run(PauseJob, { ref: c.req.param("id") });
    return noContent();
  });
  app.post("/containers/:id/unpause", async (c) => {
    await engine.run(UnpauseJob, { ref: c.req.param("id") });
    return noContent();
  });
  app.delete("/containers/:id", async (c) => {
    if (boolQuery(c, "link")) await engine.run(RemoveLinkJob, { ref: c.req.param("id") });
    else await engine.run(RemoveJob, { ref: c.req.param("id"), force: boolQuery(c, "force"), volumes: boolQuery(c, "v") });
    return noContent();
  });
  // A link's name is "<parent>/<alias>" (`docker rm --link`).
  app.delete("/containers/:parent/:alias", async (c) => {
    const ref = `${c.req.param("parent")}/${c.req.param("alias")}`;
    if (boolQuery(c, "link")) await engine.run(RemoveLinkJob, { ref });
    else await engine.run(RemoveJob, { ref, force: boolQuery(c, "force"), volumes: boolQuery(c, "v") });
    return noContent();
  });
  app.post("/containers/:id/rename", async (c) => {
    const name = c.req.query("name");
    if (!name) throw new BadRequestError("missing name");
    // dockerd names the new name with its leading slash here.
    if (!VALID_NAME.test(name.replace(/^\//, ""))) throw new BadRequestError(`Error when allocating new name: Invalid container name (/${name.replace(/^\//, "")}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
    await engine.run(RenameJob, { ref: c.req.param("id"), name });
    return noContent();
  });
  app.post("/containers/:id/update", async (c) => {
    const body = (await decodeBody(c, ContainerUpdateBody)) as UpdateBody;
    return c.json(await engine.run(UpdateJob, { ref: c.req.param("id"), body }));
  });
  app.post("/containers/:id/resize", async (c) => {
    await engine.run(ResizeJob, { ref: c.req.param("id"), rows: intQuery(c, "h") ?? 24, cols: intQuery(c, "w") ?? 80 });
    return c.body(null, 200);
  });
  app.get("/containers/:id/top", async (c) =>
    c.json(await engine.run(TopJob, { ref: c.req.param("id"), psArgs: c.req.query("ps_args") ?? "-ef" })),
  );

  app.get("/containers/:id/stats", async (c) => {
    const stream = boolQuery(c, "stream", true) && !boolQuery(c, "one-shot");
    const abort = new AbortController();
    c.req.raw.signal.addEventListener("abort", () => abort.abort());
    const ref = c.req.param("id");
    if (!stream) {
      const samples: unknown[] = [];
      await engine.run(StatsJob, { ref, stream, signal: abort.signal, onSample: (v) => samples.push(v) });
      return c.json(samples[0] ?? {});
    }
    const ch = channel(() => abort.abort());
    const { result } = await engine.start(StatsJob, { ref, stream, signal: abort.signal, onSample: ch.push });
    void result.finally(ch.close);
    return markStreaming(new Response(ch.body, { headers: { "Content-Type": "application/json" } }));
  });

  app.post("/containers/:id/wait", async (c) => {
    const condition = (c.req.query("condition") || "not-running") as WaitCondition;
    if (!CONDITIONS.includes(condition)) throw new BadRequestError(`invalid condition: "${condition}"`);
    const { result } = await engine.start(WaitJob, { ref: c.req.param("id"), condition });
    return streamResponse(c, "application/json", async (w) => {
      const r = await Promise.race([result, new Promise<null>((ok) => w.signal.addEventListener("abort", () => ok(null)))]);
      if (r) w.bytes(new TextEncoder().encode(JSON.stringify(r) + "\n"));
    });
  });

  app.post("/containers/:id/attach", (c) => attach(c, engine, c.req.param("id")));

  app.get("/containers/:id/logs", async (c) => {
    const ref = c.req.param("id");
    const stdout = boolQuery(c, "stdout");
    const stderr = boolQuery(c, "stderr");
    if (!stdout && !stderr) throw new BadRequestError("Bad parameters: you must choose at least one stream");
    const tailQ = c.req.query("tail");
    // dockerd reads tail with strconv.Atoi and takes anything else (`all`, `abc`) as everything.
    const tail = tailQ !== undefined && /^[+-]?\d+$/.test(tailQ) && Number(tailQ) >= 0 ? Number(tailQ) : undefined;
    const timestamps = boolQuery(c, "timestamps");
    const container = await engine.run(InspectJob, { ref });
    const tty = container.Config.Tty;
    const abort = new AbortController();
    return streamResponse(c, null, async (w) => {
      w.signal.addEventListener("abort", () => abort.abort());
      const out = logFrames(w.bytes, tty);
      const { result } = await engine.start(LogsJob, {
        ref: container.Id,
        stdout,
        stderr,
        follow: boolQuery(c, "follow"),
        tail,
        since: timeQuery(c.req.query("since")),
        until: timeQuery(c.req.query("until")),
        signal: abort.signal,
        onLine: (stream, time, text) => out.push(stream === "stdout" ? 1 : 2, text, timestamps ? `${time} ` : ""),
      });
      await result;
      await out.flush();
    });
  });
}

/**
 * POST /containers/{id}/attach, and the end of ctr's create with run= (the
 * same conversation for the container just created; `extra` goes on its 101).
 */
async function attach(c: Context<AppEnv>, engine: Engine, ref: string, extra: Record<string, string> = {}): Promise<Response> {
  const [stdin, stdout, stderr, logs, stream] = ["stdin", "stdout", "stderr", "logs", "stream"].map((k) => boolQuery(c, k)) as [boolean, boolean, boolean, boolean, boolean];
  const container = await engine.run(InspectJob, { ref });
  const tty = container.Config.Tty;
  const keys = detachKeysOrThrow(c.req.query("detachKeys"), (k) => `Invalid detach keys (${k}) provided`);
  const run = runCondition(c.req.query("run"), stream, tty);
  const { conn, response } = openRaw(c, tty, run ? { [ENDS_WITH_STATUS_HEADER]: "1", ...extra } : extra);
  // A slow client's write promise goes back to the hub, which then waits (backpressure).
  const send = (s: 1 | 2, chunk: Uint8Array): Promise<void> | undefined =>
    (s === 1 && stdout) || (s === 2 && stderr) ? conn.write(tty ? chunk : frame(s, chunk)) : undefined;
  // ctr's run (attach-run.ts): the stream ends with the exit status, once it is known.
  let ending: (() => Promise<RunEnd>) | null = null;
  let ended = false;
  const end = async () => {
    if (ended) return;
    ended = true;
    if (ending) await conn.write(frame(3, new TextEncoder().encode(JSON.stringify(await ending()))));
    conn.end();
  };
  // logs=1 replays what the container wrote so far; live output waits behind it.
  const live = new HeldOutput(send, () => void end(), logs);
  if (stream) {
    // Subscribed before we answer: `docker run` sends start once it has the 101.
    const { hub, detach } = await engine.run(AttachJob, { ref, sub: { onOutput: (s, b) => live.output(s, b), onEnd: () => live.end() } });
    if (stdin && conn.input) {
      // With a TTY the detach keys end the attach; the container runs on (dockerd's copyEscapable).
      const watcher = tty ? new DetachWatcher(keys) : null;
      conn.input.on("data", (d: Buffer) => {
        if (!watcher) return hub.writeStdin(d);
        const pass = watcher.feed(d);
        if (pass.length) hub.writeStdin(pass);
        if (watcher.detached) {
          detach(true);
          conn.end();
        }
      });
      conn.input.on("end", () => {
        if (!watcher?.detached) hub.endStdin();
      });
    }
    void conn.closed.then(() => detach());
    if (run) ending = await startAndWait(engine, container.Id, run, () => void end());
  }
  void (async () => {
    if (logs) {
      const { result } = await engine.start(LogsJob, { ref: container.Id, stdout, stderr, follow: false, signal: c.req.raw.signal, onLine: (s, _t, text) => send(s === "stdout" ? 1 : 2, Buffer.from(text)) });
      await result.catch(() => {});
    }
    // stream=0: the logs are all there is (dockerd ends the attach here).
    if (!stream) conn.end();
    else live.release();
  })();
  return response;
}

/** Live attach output held while the logs are replayed, then passed through. */
class HeldOutput {
  private held: [1 | 2, Uint8Array][] | null;
  private ended = false;

  constructor(
    private readonly send: (s: 1 | 2, b: Uint8Array) => Promise<void> | undefined,
    private readonly onEnd: () => void,
    hold: boolean,
  ) {
    this.held = hold ? [] : null;
  }

  output(s: 1 | 2, b: Uint8Array): Promise<void> | undefined {
    if (!this.held) return this.send(s, b);
    this.held.push([s, b]);
    return undefined;
  }

  end(): void {
    if (this.held) this.ended = true;
    else this.onEnd();
  }

  release(): void {
    const held = this.held ?? [];
    this.held = null;
    for (const [s, b] of held) this.send(s, b);
    if (this.ended) this.onEnd();
  }
}

function timeQuery(v: string | undefined): number | undefined {
  if (!v || v === "0") return undefined;
  const n = Number(v);
  if (Number.isFinite(n)) return n;
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new BadRequestError(`invalid time: ${v}`);
  return t / 1000;
}

/** JSON values pushed by a job, as a streamed body (or collected when nobody streams). */
function channel(onCancel: () => void) {
  const enc = new TextEncoder();
  let ctrl!: ReadableStreamDefaultController<Uint8Array>;
  let closed = false;
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      ctrl = c;
    },
    cancel() {
      closed = true;
      onCancel();
    },
  });
  return {
    body,
    push: (v: unknown) => {
      if (!closed) ctrl.enqueue(enc.encode(JSON.stringify(v) + "\n"));
    },
    close: () => {
      if (closed) return;
      closed = true;
      ctrl.close();
    },
  };
}
