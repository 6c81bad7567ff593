import type { Migration } from "./index.ts";

export const volumeMigrations: Migration[] = [
  {
    id: "volumes-001",
    sql: `
CREATE TABLE volumes (
  name       TEXT PRIMARY KEY,
  driver     TEXT NOT NULL DEFAULT 'local',
  labels     TEXT NOT NULL DEFAULT '{}',
  options    TEXT NOT NULL DEFAULT '{}',
  anonymous  INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL
);
-- Which containers mount which volumes (rm of a volume in use is refused).
CREATE TABLE volume_refs (
  volume       TEXT NOT NULL REFERENCES volumes(name) ON DELETE CASCADE,
  container_id TEXT NOT NULL,
  PRIMARY KEY (volume, container_id)
);
`,
  },
];
