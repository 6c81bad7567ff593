import type { Migration } from "./index.ts";

export const buildMigrations: Migration[] = [
  {
    id: "builds-001",
    sql: `
-- The builder's cache: a step's key (parent image, instruction after
-- substitution, build args in effect, content of copied files) → the image it made.
CREATE TABLE build_cache (
  key          TEXT PRIMARY KEY,          -- sha256 hex of the step's inputs
  image_id     TEXT NOT NULL,             -- the step's result (an image of the graph)
  parent       TEXT,                      -- the image the step ran on
  kind         TEXT NOT NULL,             -- regular | source.local | exec.cachemount (docker's BuildCache Type)
  description  TEXT NOT NULL,             -- the instruction, for system df -v
  size         INTEGER NOT NULL,          -- bytes of the layer the step added
  created_at   INTEGER NOT NULL,          -- ms
  last_used_at INTEGER NOT NULL,
  usage_count  INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX build_cache_image ON build_cache(image_id);
-- RUN --mount=type=cache directories (<root>/buildcache/<dir>), kept across builds.
CREATE TABLE build_cache_mounts (
  id           TEXT PRIMARY KEY,          -- the mount's id (its target when none is given)
  dir          TEXT NOT NULL UNIQUE,
  created_at   INTEGER NOT NULL,
  last_used_at INTEGER NOT NULL
);
`,
  },
];
