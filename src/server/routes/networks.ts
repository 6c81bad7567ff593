import type { App, ApiDeps } from "../app.ts";
import { decodeBody, filtersQuery } from "../request.ts";
import { NetworkConnectBody, NetworkCreateBody, NetworkDisconnectBody } from "../schemas/index.ts";
import {
  NetworkConnectJob,
  NetworkCreateJob,
  NetworkDisconnectJob,
  NetworkInspectJob,
  NetworkListJob,
  NetworkPruneJob,
  NetworkRemoveJob,
} from "../../engine/network/jobs.ts";

export function networkRoutes(app: App, { engine }: ApiDeps): void {
  app.get("/networks", async (c) => c.json(await engine.run(NetworkListJob, { filters: filtersQuery(c) })));
  app.post("/networks/create", async (c) => c.json(await engine.run(NetworkCreateJob, await decodeBody(c, NetworkCreateBody)), 201));
  app.post("/networks/prune", async (c) => c.json(await engine.run(NetworkPruneJob, { filters: filtersQuery(c) })));
  app.get("/networks/:id", async (c) => c.json(await engine.run(NetworkInspectJob, { ref: c.req.param("id") })));
  app.delete("/networks/:id", async (c) => {
    await engine.run(NetworkRemoveJob, { ref: c.req.param("id") });
    return new Response(null, { status: 204 });
  });
  app.post("/networks/:id/connect", async (c) => {
    const b = await decodeBody(c, NetworkConnectBody);
    await engine.run(NetworkConnectJob, { ref: c.req.param("id"), container: b.Container ?? "", config: b.EndpointConfig });
    return c.body(null, 200);
  });
  app.post("/networks/:id/disconnect", async (c) => {
    const b = await decodeBody(c, NetworkDisconnectBody);
    await engine.run(NetworkDisconnectJob, { ref: c.req.param("id"), container: b.Container ?? "" });
    return c.body(null, 200);
  });
}
