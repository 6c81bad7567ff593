import type { App, ApiDeps } from "../app.ts";
import { BadRequestError } from "../errors.ts";
import { boolQuery, filtersQuery } from "../request.ts";
import { streamResponse } from "../stream.ts";
import {
  HistoryJob,
  ImageInspectJob,
  ImagesListJob,
  LoadJob,
  PullJob,
  PushJob,
  RemoveImageJob,
  SaveJob,
  TagJob,
  ImagePruneJob,
  ImageTreeJob,
} from "../../engine/images/jobs.ts";
import { decodeRegistryAuth } from "../../engine/distribution/credentials.ts";

/** `{name}` may hold slashes and a colon (`127.0.0.1:5000/busybox:latest`): match greedily up to the verb. */
const NAME = ":name{.+}";

export function imageRoutes(app: App, { engine }: ApiDeps): void {
  app.post("/images/create", async (c) => {
    const fromImage = c.req.query("fromImage");
    if (!fromImage) throw new BadRequestError("fromImage is required (import from a source is not supported here)");
    const tag = c.req.query("tag");
    const ref = tag ? (tag.startsWith("sha256:") ? `${fromImage}@${tag}` : `${fromImage}:${tag}`) : fromImage;
    const auth = decodeRegistryAuth(c.req.header("X-Registry-Auth"));
    const { ctx, result } = await engine.start(PullJob, { ref, platform: c.req.query("platform") || undefined, auth });
    return streamResponse(c, "application/json", async (w) => {
      const following = ctx.stdout.follow((m) => w.json(m));
      await result;
      await following;
    });
  });
  app.get("/images/json", async (c) => c.json(await engine.run(ImagesListJob, { all: boolQuery(c, "all"), filters: filtersQuery(c), digests: boolQuery(c, "digests"), sharedSize: boolQuery(c, "shared-size") })));
  app.get("/images/tree", async (c) => c.json(await engine.run(ImageTreeJob, { filters: filtersQuery(c) })));
  app.post("/images/prune", async (c) => c.json(await engine.run(ImagePruneJob, { filters: filtersQuery(c) })));
  const save = async (names: string[]) => {
    const { result } = await engine.start(SaveJob, { names });
    return new Response(await result, { headers: { "Content-Type": "application/x-tar" } });
  };
  app.get("/images/get", async (c) => {
    const names = c.req.queries("names") ?? [];
    if (!names.length) throw new BadRequestError("names is required");
    return save(names);
  });
  // One image's tarball (docker-py's Image.save uses this form).
  app.get(`/images/${NAME}/get`, async (c) => save([c.req.param("name")]));
  app.post("/images/load", async (c) => {
    const body = c.req.raw.body as ReadableStream<Uint8Array> | null;
    if (!body) throw new BadRequestError("empty body");
    const { ctx, result } = await engine.start(LoadJob, { tar: body, quiet: boolQuery(c, "quiet") });
    return streamResponse(c, "application/json", async (w) => {
      const following = ctx.stdout.follow((m) => w.json(m));
      await result;
      await following;
    });
  });
  app.get(`/images/${NAME}/json`, async (c) => c.json(await engine.run(ImageInspectJob, { ref: c.req.param("name") })));
  app.get(`/images/${NAME}/history`, async (c) => c.json(await engine.run(HistoryJob, { ref: c.req.param("name") })));
  app.post(`/images/${NAME}/tag`, async (c) => {
    const repo = c.req.query("repo");
    if (!repo) throw new BadRequestError("repo is required");
    await engine.run(TagJob, { source: c.req.param("name"), repo, tag: c.req.query("tag") || "latest" });
    return c.body(null, 201);
  });
  app.post(`/images/${NAME}/push`, async (c) => {
    const tag = c.req.query("tag");
    const ref = tag ? `${c.req.param("name")}:${tag}` : c.req.param("name");
    const { ctx, result } = await engine.start(PushJob, { ref, auth: decodeRegistryAuth(c.req.header("X-Registry-Auth")) });
    return streamResponse(c, "application/json", async (w) => {
      const following = ctx.stdout.follow((m) => w.json(m));
      await result;
      await following;
    });
  });
  app.delete(`/images/${NAME}`, async (c) =>
    c.json(await engine.run(RemoveImageJob, { ref: c.req.param("name"), force: boolQuery(c, "force"), noprune: boolQuery(c, "noprune") })),
  );
}
