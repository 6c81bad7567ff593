import { compareVersions, type App, type ApiDeps } from "../app.ts";
import { API_VERSION } from "../../version.ts";
import { boolQuery, decodeBody, filtersQuery } from "../request.ts";
import { VolumeCreateBody } from "../schemas/index.ts";
import { VolumeCreateJob, VolumeInspectJob, VolumeListJob, VolumePruneJob, VolumeRemoveJob } from "../../engine/volumes/jobs.ts";

export function volumeRoutes(app: App, { engine }: ApiDeps): void {
  app.get("/volumes", async (c) => c.json(await engine.run(VolumeListJob, { filters: filtersQuery(c) })));
  app.post("/volumes/create", async (c) => c.json(await engine.run(VolumeCreateJob, await decodeBody(c, VolumeCreateBody)), 201));
  app.post("/volumes/prune", async (c) => {
    const filters = filtersQuery(c);
    // Before API 1.42 prune took every unused volume (dockerd 20.10 still does); from 1.42 on only
    // anonymous ones unless all=true (moby's router adds all=true for older clients).
    const old = compareVersions(c.get("apiVersion") ?? API_VERSION, "1.42") < 0;
    const all = old || (filters.all ?? []).some((v) => v === "true" || v === "1");
    delete filters.all;
    return c.json(await engine.run(VolumePruneJob, { filters, all }));
  });
  app.get("/volumes/:name", async (c) => c.json(await engine.run(VolumeInspectJob, { name: c.req.param("name") })));
  app.delete("/volumes/:name", async (c) => {
    await engine.run(VolumeRemoveJob, { name: c.req.param("name"), force: boolQuery(c, "force") });
    return new Response(null, { status: 204 });
  });
}
