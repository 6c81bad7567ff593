// Build jobs: `build` (POST /build), `build-prune` (POST /build/prune) and the
// build cache rows `system df` shows. One build is one job: `ctr jobs` shows
// it with its current step as progress.
import { lstatSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { handle, jobType, type JobDef } from "../engine.ts";
import { ConflictError, NotFoundError } from "../errors.ts";
import { build, type BuildRequest, type BuildResult } from "./builder.ts";
import type { BuildDeps } from "./session.ts";

export const BuildJob = jobType<BuildRequest, BuildResult>("build");
export const BuildPruneJob = jobType<{ all?: boolean; filters?: Record<string, string[]> }, { CachesDeleted: string[] | null; SpaceReclaimed: number }>("build-prune");

/** Docker's BuildCache record (GET /system/df). */
export interface BuildCacheRecord {
  ID: string;
  Parent: string;
  Parents: string[] | null;
  Type: string;
  Description: string;
  InUse: boolean;
  Shared: boolean;
  Size: number;
  CreatedAt: string;
  LastUsedAt: string | null;
  UsageCount: number;
}

const cacheId = (key: string) => key.slice(0, 25);

function du(path: string): number {
  let n = 0;
  let st;
  try {
    st = lstatSync(path);
  } catch {
    return 0;
  }
  if (!st.isDirectory()) return st.size;
  for (const e of readdirSync(path)) n += du(join(path, e));
  return n;
}

export function buildCacheRecords(d: Pick<BuildDeps, "cache" | "images">): BuildCacheRecord[] {
  d.cache.dropDangling();
  const rows = d.cache.list().map((e) => ({
    ID: cacheId(e.key),
    Parent: "",
    Parents: null,
    Type: e.kind,
    Description: e.description,
    InUse: false,
    Shared: d.images.refsOf(e.imageId).some((r) => r.kind === "tag"),
    Size: Math.max(0, e.size),
    CreatedAt: new Date(e.createdAt).toISOString(),
    LastUsedAt: new Date(e.lastUsedAt).toISOString(),
    UsageCount: e.usageCount,
  }));
  const mounts = d.cache.mounts().map((m) => ({
    ID: cacheId(m.dir.split("/").at(-1)!),
    Parent: "",
    Parents: null,
    Type: "exec.cachemount",
    Description: `mount / from exec ${m.id}`,
    InUse: false,
    Shared: false,
    Size: du(m.dir),
    CreatedAt: new Date(m.createdAt).toISOString(),
    LastUsedAt: new Date(m.lastUsedAt).toISOString(),
    UsageCount: 0,
  }));
  return [...rows, ...mounts];
}

export interface BuildJobDeps extends BuildDeps {
  /** rmi of an untagged intermediate image; ConflictError when it is still needed. */
  removeImage(id: string): Promise<number>;
}

/**
 * Prune: forgets every cache row and cache mount, then removes the images only
 * the cache held (untagged, unused, no children), tips first.
 */
async function prune(d: BuildJobDeps): Promise<{ CachesDeleted: string[] | null; SpaceReclaimed: number }> {
  const rows = d.cache.list();
  const deleted: string[] = [];
  let reclaimed = 0;
  for (const m of d.cache.mounts()) {
    reclaimed += du(m.dir);
    rmSync(m.dir, { recursive: true, force: true });
    d.cache.deleteMount(m.id);
    deleted.push(cacheId(m.dir.split("/").at(-1)!));
  }
  const candidates = new Set(rows.map((r) => r.imageId));
  for (const r of rows) {
    d.cache.delete(r.key);
    deleted.push(cacheId(r.key));
  }
  for (let progress = true; progress; ) {
    progress = false;
    for (const id of candidates) {
      const img = d.images.get(id);
      if (!img) {
        candidates.delete(id);
        continue;
      }
      if (d.images.refsOf(id).length || d.images.children(id).length) continue;
      try {
        reclaimed += await d.removeImage(id);
        candidates.delete(id);
        progress = true;
      } catch (e) {
        if (!(e instanceof ConflictError) && !(e instanceof NotFoundError)) throw e;
        candidates.delete(id);
      }
    }
  }
  return { CachesDeleted: deleted.length ? deleted : null, SpaceReclaimed: reclaimed };
}

export function buildJobs(d: BuildJobDeps): JobDef<any, any>[] {
  return [
    handle(
      BuildJob,
      (ctx, req) => build(d, ctx, req, (m) => ctx.stdout.write(m)),
      (req) => [...req.options.tags.flatMap((t) => ["-t", t]), ...(req.options.target ? ["--target", req.options.target] : []), "-f", req.options.dockerfile],
    ),
    handle(BuildPruneJob, () => prune(d)),
  ];
}
