import { EventEmitter } from "node:events";
import { handle, jobType, type JobDef } from "../engine.ts";

export interface EngineEvent {
  Type: "container" | "image" | "network" | "volume" | "daemon";
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  scope: "local";
  time: number;
  timeNano: number;
  // dockerd's legacy fields, only on container and image events
  status?: string;
  id?: string;
  from?: string;
}

export type EventInput = { Type: string; Action: string; Actor: { ID: string; Attributes: Record<string, string> } };

export interface SubscribeOptions {
  since?: number;
  until?: number;
  filters?: Record<string, string[]>;
  signal?: AbortSignal;
}

/** In-process event bus with a bounded history, so `--since` can replay. */
export class EventBus {
  private readonly history: EngineEvent[] = [];
  private readonly emitter = new EventEmitter();
  private static readonly KEEP = 2000;
  private static readonly QUEUE = 1024;

  constructor() {
    this.emitter.setMaxListeners(0);
  }

  publish(e: EventInput): EngineEvent {
    const nowNs = BigInt(Date.now()) * 1_000_000n + (process.hrtime.bigint() % 1_000_000n);
    const ev: EngineEvent = {
      Type: e.Type as EngineEvent["Type"],
      Action: e.Action,
      Actor: e.Actor,
      scope: "local",
      time: Number(nowNs / 1_000_000_000n),
      timeNano: Number(nowNs),
    };
    if (e.Type === "container" || e.Type === "image") {
      ev.status = e.Action;
      ev.id = e.Actor.ID;
      if (e.Type === "container" && e.Actor.Attributes.image) ev.from = e.Actor.Attributes.image;
    }
    this.history.push(ev);
    if (this.history.length > EventBus.KEEP) this.history.shift();
    this.emitter.emit("event", ev);
    return ev;
  }

  async *subscribe(o: SubscribeOptions = {}): AsyncGenerator<EngineEvent> {
    const queue: EngineEvent[] = [];
    let wake: (() => void) | null = null;
    const onEvent = (e: EngineEvent) => {
      // A subscriber that stopped reading loses events past the bound rather than
      // holding them all (moby's pubsub drops for a subscriber that does not keep up).
      if (queue.length < EventBus.QUEUE) queue.push(e);
      wake?.();
    };
    this.emitter.on("event", onEvent);
    // A flag, not only a wake-up: the timer may fire while we are not waiting
    // (or a little before `until` by the clock), and must still end the stream.
    let stopped = false;
    const stop = () => {
      stopped = true;
      wake?.();
    };
    o.signal?.addEventListener("abort", stop);
    const untilMs = o.until !== undefined ? o.until * 1000 : undefined;
    const timer = untilMs !== undefined ? setTimeout(stop, Math.max(0, untilMs - Date.now())) : undefined;
    try {
      if (o.since !== undefined) {
        for (const e of this.history) if (e.timeNano / 1e9 >= o.since && inRange(e, o) && matches(e, o.filters)) yield e;
      }
      for (;;) {
        if (o.signal?.aborted) return;
        if (untilMs !== undefined && Date.now() >= untilMs) return;
        const e = queue.shift();
        if (e) {
          if (inRange(e, o) && matches(e, o.filters)) yield e;
          continue;
        }
        if (stopped) return;
        await new Promise<void>((r) => (wake = r));
        wake = null;
      }
    } finally {
      this.emitter.off("event", onEvent);
      o.signal?.removeEventListener("abort", stop);
      if (timer) clearTimeout(timer);
    }
  }
}

function inRange(e: EngineEvent, o: SubscribeOptions): boolean {
  return o.until === undefined || e.timeNano / 1e9 <= o.until;
}

/** Docker's filter semantics: values of one key OR, keys AND. */
export function matches(e: EngineEvent, filters: Record<string, string[]> = {}): boolean {
  const a = e.Actor.Attributes;
  for (const [key, vals] of Object.entries(filters)) {
    if (!vals.length) continue;
    const ok = vals.some((v) => {
      switch (key) {
        case "type":
          return e.Type === v;
        case "event":
          return e.Action === v || e.Action.startsWith(`${v}:`);
        case "container":
          return e.Type === "container" && (e.Actor.ID.startsWith(v) || a.name === v);
        case "image":
          return a.image === v || (e.Type === "image" && (e.Actor.ID === v || a.name === v));
        case "network":
          return e.Type === "network" && (e.Actor.ID.startsWith(v) || a.name === v);
        case "volume":
          return e.Type === "volume" && e.Actor.ID === v;
        case "label": {
          const [k, val] = v.split("=", 2) as [string, string | undefined];
          return k in a && (val === undefined || a[k] === val);
        }
        default:
          return false;
      }
    });
    if (!ok) return false;
  }
  return true;
}

export const EventsJob = jobType<SubscribeOptions & { onEvent: (e: EngineEvent) => Promise<void> | undefined }, void>("events");

export function eventsJobs(bus: EventBus): JobDef<any, any>[] {
  return [
    handle(EventsJob, async (ctx, a) => {
      ctx.ready();
      for await (const e of bus.subscribe(a)) await a.onEvent(e);
    }),
  ];
}
