import type { App, ApiDeps } from "../app.ts";
import { jsonBody } from "../request.ts";
import {
  NetworkConnectJob,
  NetworkCreateJob,
  NetworkDisconnectJob,
  NetworkInspectJob,
  NetworkListJob,
  NetworkPruneJob,
  NetworkRemoveJob,
  type NetworkCreateBody,
} from "../../engine/network/jobs.ts";

export function networkRoutes(app: App, { engine }: ApiDeps): void {
  app.get("/networks", async (c) => c.json(await engine.run(NetworkListJob, undefined)));
  app.post("/networks/create", async (c) => c.json(await engine.run(NetworkCreateJob, await jsonBody<NetworkCreateBody>(c)), 201));
  app.post("/networks/prune", async (c) => c.json(await engine.run(NetworkPruneJob, undefined)));
  app.get("/networks/:id", async (c) => c.json(await engine.run(NetworkInspectJob, { ref: c.req.param("id") })));
  app.delete("/networks/:id", async (c) => {
    await engine.run(NetworkRemoveJob, { ref: c.req.param("id") });
    return new Response(null, { status: 204 });
  });
  app.post("/networks/:id/connect", async (c) => {
    const b = await jsonBody<{ Container?: string; EndpointConfig?: { Aliases?: string[]; IPAMConfig?: { IPv4Address?: string } } }>(c);
    await engine.run(NetworkConnectJob, { ref: c.req.param("id"), container: b.Container ?? "", aliases: b.EndpointConfig?.Aliases, ip: b.EndpointConfig?.IPAMConfig?.IPv4Address });
    return c.body(null, 200);
  });
  app.post("/networks/:id/disconnect", async (c) => {
    const b = await jsonBody<{ Container?: string }>(c);
    await engine.run(NetworkDisconnectJob, { ref: c.req.param("id"), container: b.Container ?? "" });
    return c.body(null, 200);
  });
}
