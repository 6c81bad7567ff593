import type { Cli } from "./parser.ts";
import { list, type CliContext } from "./context.ts";
import { relTime, filterQuery } from "./container-info.ts";
import { renderTemplate } from "./format.ts";
import type { EngineEvent } from "../engine/events/bus.ts";

/** docker's line: `2026-…Z container create <id> (image=…, name=…)` with sorted attributes. */
export function eventLine(e: EngineEvent): string {
  const t = new Date(Math.floor(e.timeNano / 1e6)).toISOString().replace(/\.(\d{3})Z$/, (_m, ms) => `.${ms}${String(e.timeNano % 1e6).padStart(6, "0")}Z`);
  const attrs = Object.entries(e.Actor.Attributes).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}=${v}`).join(", ");
  return `${t} ${e.Type} ${e.Action} ${e.Actor.ID}${attrs ? ` (${attrs})` : ""}`;
}

export function registerEvents(cli: Cli, ctx: CliContext): void {
  cli
    .command("events", "Get real time events from the server")
    .option("--since <t>", "Show all events created since timestamp")
    .option("--until <t>", "Stream events until this timestamp")
    .option("-f, --filter <kv>", "Filter output based on conditions provided")
    .option("--format <template>", "Format the output using a Go-like template")
    .action(async (f: { since?: string; until?: string; filter?: unknown; format?: string }) => {
      const client = await ctx.client();
      const res = await client.request("GET", "/events", { query: { since: relTime(f.since), until: relTime(f.until), filters: filterQuery(list(f.filter)) } });
      const dec = new TextDecoder();
      let buf = "";
      for await (const chunk of res.body!) {
        buf += dec.decode(chunk, { stream: true });
        let nl: number;
        while ((nl = buf.indexOf("\n")) >= 0) {
          const e = JSON.parse(buf.slice(0, nl)) as EngineEvent;
          buf = buf.slice(nl + 1);
          console.log(f.format ? renderTemplate(f.format, e) : eventLine(e));
        }
      }
    });
}
