import type { App, ApiDeps } from "../app.ts";
import { BadRequestError } from "../errors.ts";
import { intQuery, jsonBody } from "../request.ts";
import { AuthJob, SearchJob } from "../../engine/images/registry-jobs.ts";
import { decodeRegistryAuth } from "../../engine/distribution/credentials.ts";

/** POST /auth (docker login's check) and GET /images/search. */
export function registryRoutes(app: App, { engine }: ApiDeps): void {
  app.post("/auth", async (c) => {
    const b = await jsonBody<{ username?: string; password?: string; serveraddress?: string; identitytoken?: string }>(c);
    if (!b.username && !b.identitytoken) throw new BadRequestError("username is required");
    const creds = { username: b.username, password: b.password, identityToken: b.identitytoken };
    return c.json(await engine.run(AuthJob, { server: b.serveraddress || "docker.io", creds }));
  });
  app.get("/images/search", async (c) => {
    const term = c.req.query("term");
    if (!term) throw new BadRequestError("term is required");
    return c.json(await engine.run(SearchJob, { term, limit: intQuery(c, "limit"), creds: decodeRegistryAuth(c.req.header("X-Registry-Auth")) }));
  });
}
