import type { Migration } from "./index.ts";

export const containerMigrations: Migration[] = [
  {
    id: "containers-001",
    sql: `
CREATE TABLE containers (
  id               TEXT PRIMARY KEY,
  name             TEXT NOT NULL UNIQUE,  -- without the leading '/'
  image_id         TEXT NOT NULL,
  image_ref        TEXT NOT NULL,         -- what the user typed, shown by ps
  config           TEXT NOT NULL,         -- Docker's Config JSON
  host_config      TEXT NOT NULL,         -- Docker's HostConfig JSON
  networking       TEXT NOT NULL DEFAULT '{}', -- NetworkingConfig asked for at create
  network_settings TEXT NOT NULL DEFAULT '{}', -- what networking gave us while running
  mounts           TEXT NOT NULL DEFAULT '[]', -- Docker's MountPoint list, resolved at create
  state            TEXT NOT NULL,         -- Docker's State JSON
  restart_count    INTEGER NOT NULL DEFAULT 0,
  created          TEXT NOT NULL          -- RFC 3339 with nanoseconds
);
CREATE INDEX containers_image ON containers(image_id);
`,
  },
  {
    // Docker's HasBeenManuallyStopped: `unless-stopped` must survive a daemon restart.
    id: "containers-002",
    sql: `ALTER TABLE containers ADD COLUMN manually_stopped INTEGER NOT NULL DEFAULT 0;`,
  },
  {
    // --userns=auto: the block of subordinate ids each container holds; removing the container frees it.
    id: "containers-003",
    sql: `
CREATE TABLE userns_ranges (
  container_id TEXT PRIMARY KEY REFERENCES containers(id) ON DELETE CASCADE,
  host_uid     INTEGER NOT NULL UNIQUE,
  host_gid     INTEGER NOT NULL UNIQUE,
  size         INTEGER NOT NULL
);
`,
  },
];
