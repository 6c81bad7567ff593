import type { Migration } from "./index.ts";

export const imageMigrations: Migration[] = [
  {
    id: "images-001",
    sql: `
CREATE TABLE layers (
  chain_id   TEXT PRIMARY KEY,          -- sha256:… per the OCI image spec
  diff_id    TEXT NOT NULL,             -- digest of the uncompressed tar
  parent     TEXT,                      -- parent chain id (not a FK: parallel pulls insert out of order)
  cache_id   TEXT NOT NULL UNIQUE,      -- directory name in the graph driver
  size       INTEGER NOT NULL,          -- bytes of the extracted diff
  created_at INTEGER NOT NULL
);
CREATE INDEX layers_parent ON layers(parent);
-- Compressed blobs known to carry a diff, so push can reuse them and pulls skip them.
CREATE TABLE layer_blobs (
  digest     TEXT PRIMARY KEY,
  diff_id    TEXT NOT NULL,
  media_type TEXT NOT NULL,
  size       INTEGER NOT NULL,
  source     TEXT                       -- registry/repository it came from (cross-repo mount)
);
CREATE INDEX layer_blobs_diff ON layer_blobs(diff_id);
CREATE TABLE images (
  id              TEXT PRIMARY KEY,     -- sha256 of the config blob
  config          TEXT NOT NULL,
  top_layer       TEXT REFERENCES layers(chain_id),
  parent          TEXT,                 -- graph edge: image this one was built/committed from
  manifest_digest TEXT,
  size            INTEGER NOT NULL,
  created         INTEGER NOT NULL,     -- unix seconds, from the config
  added_at        INTEGER NOT NULL
);
CREATE TABLE image_layers (
  image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
  idx      INTEGER NOT NULL,
  chain_id TEXT NOT NULL REFERENCES layers(chain_id),
  PRIMARY KEY (image_id, idx)
);
CREATE INDEX image_layers_chain ON image_layers(chain_id);
CREATE TABLE refs (
  name     TEXT PRIMARY KEY,            -- docker.io/library/busybox:latest or …@sha256:…
  image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
  kind     TEXT NOT NULL CHECK (kind IN ('tag', 'digest'))
);
CREATE INDEX refs_image ON refs(image_id);
`,
  },
];
