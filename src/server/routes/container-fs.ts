import type { App, ApiDeps } from "../app.ts";
import { BadRequestError } from "../errors.ts";
import { boolQuery, jsonBody } from "../request.ts";
import { streamResponse } from "../stream.ts";
import { ArchiveGetJob, ArchivePutJob, ArchiveStatJob, ChangesJob, CommitJob, ExportJob, ImportJob } from "../../engine/containers/fs-jobs.ts";
import type { PathStat } from "../../engine/containers/archive.ts";

const STAT_HEADER = "X-Docker-Container-Path-Stat";
const statHeader = (s: PathStat) => Buffer.from(JSON.stringify(s)).toString("base64");

function pathQuery(path: string | undefined): string {
  if (!path) throw new BadRequestError("path is required");
  return path;
}

function body(req: Request): ReadableStream<Uint8Array> {
  if (!req.body) throw new BadRequestError("empty body: a tar archive is expected");
  return req.body as ReadableStream<Uint8Array>;
}

/** cp (archive), diff (changes), export, commit, and import (POST /images/create?fromSrc=). */
export function containerFsRoutes(app: App, { engine }: ApiDeps): void {
  // Hono answers HEAD with the GET handler (and drops the body): stat only then,
  // so no tar (and no rootfs mount behind it) is made for nothing.
  app.get("/containers/:id/archive", async (c) => {
    const args = { ref: c.req.param("id"), path: pathQuery(c.req.query("path")) };
    if (c.req.raw.method === "HEAD") return c.body(null, 200, { [STAT_HEADER]: statHeader(await engine.run(ArchiveStatJob, args)) });
    const { stat, tar } = await engine.run(ArchiveGetJob, args);
    return new Response(tar, { headers: { "Content-Type": "application/x-tar", [STAT_HEADER]: statHeader(stat) } });
  });
  app.put("/containers/:id/archive", async (c) => {
    await engine.run(ArchivePutJob, { ref: c.req.param("id"), path: pathQuery(c.req.query("path")), tar: body(c.req.raw) });
    return c.body(null, 200);
  });
  app.get("/containers/:id/changes", async (c) => c.json(await engine.run(ChangesJob, { ref: c.req.param("id") })));
  app.get("/containers/:id/export", async (c) => {
    const tar = await engine.run(ExportJob, { ref: c.req.param("id") });
    return new Response(tar, { headers: { "Content-Type": "application/x-tar" } });
  });
  app.post("/commit", async (c) => {
    const ref = c.req.query("container");
    if (!ref) throw new BadRequestError("container is required");
    const repo = c.req.query("repo");
    const tag = c.req.query("tag");
    const config = await jsonBody(c);
    const res = await engine.run(CommitJob, {
      ref,
      reference: repo ? (tag ? `${repo}:${tag}` : repo) : undefined,
      comment: c.req.query("comment") || undefined,
      author: c.req.query("author") || undefined,
      pause: boolQuery(c, "pause", true),
      changes: c.req.queries("changes") ?? [],
      config,
    });
    return c.json(res, 201);
  });
  // Registered before the image routes: this handles only imports (fromSrc), pulls go on.
  app.post("/images/create", async (c, next) => {
    const src = c.req.query("fromSrc");
    if (!src) return next();
    if (src !== "-") throw new BadRequestError("import from a URL is not supported: send the tarball as the body (fromSrc=-)");
    const repo = c.req.query("repo");
    const tag = c.req.query("tag");
    const { id } = await engine.run(ImportJob, {
      tar: body(c.req.raw),
      reference: repo ? (tag ? `${repo}:${tag}` : repo) : undefined,
      message: c.req.query("message") || undefined,
      changes: c.req.queries("changes") ?? [],
      source: "-",
    });
    return streamResponse(c, "application/json", async (w) => w.json({ status: id }));
  });
}
