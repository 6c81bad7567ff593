import type { App, ApiDeps } from "../app.ts";
import { boolQuery } from "../request.ts";
import { InfoJob, JobsJob, PingJob, VersionJob } from "../../engine/system/types.ts";
import { DiskUsageJob } from "../../engine/system/df.ts";

export function systemRoutes(app: App, { engine }: ApiDeps): void {
  const ping = async (head: boolean) => {
    await engine.run(PingJob, undefined);
    return new Response(head ? null : "OK", {
      headers: {
        "Content-Type": "text/plain; charset=utf-8",
        "Cache-Control": "no-cache, no-store, must-revalidate",
        Pragma: "no-cache",
        "Builder-Version": "1",
      },
    });
  };
  app.get("/_ping", (c) => ping(c.req.method === "HEAD"));
  app.on("HEAD", "/_ping", () => ping(true));
  app.get("/version", async (c) => c.json(await engine.run(VersionJob, undefined)));
  app.get("/info", async (c) => c.json(await engine.run(InfoJob, undefined)));
  app.get("/system/df", async (c) => c.json(await engine.run(DiskUsageJob, undefined)));
  app.get("/jobs", async (c) => c.json(await engine.run(JobsJob, { all: boolQuery(c, "all") })));
}
