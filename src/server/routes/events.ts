import type { App, ApiDeps } from "../app.ts";
import { BadRequestError } from "../errors.ts";
import { filtersQuery } from "../request.ts";
import { streamResponse } from "../stream.ts";
import { EventsJob } from "../../engine/events/bus.ts";

/** `since`/`until` as dockerd takes them: unix seconds (fractional) or RFC 3339. */
function timeParam(v: string | undefined): number | undefined {
  if (v === undefined || v === "") return undefined;
  const n = Number(v);
  if (Number.isFinite(n)) return n;
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new BadRequestError(`invalid time: ${v}`);
  return t / 1000;
}

export function eventsRoutes(app: App, { engine }: ApiDeps): void {
  app.get("/events", async (c) => {
    const since = timeParam(c.req.query("since"));
    const until = timeParam(c.req.query("until"));
    const filters = filtersQuery(c);
    const enc = new TextEncoder();
    return streamResponse(c, "application/json", async (w) => {
      const { result } = await engine.start(EventsJob, {
        since,
        until,
        filters,
        signal: w.signal,
        onEvent: (e) => w.bytes(enc.encode(JSON.stringify(e) + "\n")),
      });
      await result;
    });
  });
}
