import type { Migration } from "./index.ts";

export const containerMigrations: Migration[] = [
  {
    id: "containers-001",
    sql: `
CREATE TABLE containers (
  id         TEXT PRIMARY KEY,
  name       TEXT NOT NULL UNIQUE,
  image_id   TEXT NOT NULL,
  image_ref  TEXT NOT NULL,             -- what the user typed, shown by ps
  config     TEXT NOT NULL,             -- Docker Config JSON
  host_config TEXT NOT NULL,            -- Docker HostConfig JSON
  state      TEXT NOT NULL,             -- State JSON
  created    TEXT NOT NULL              -- RFC 3339
);
`,
  },
];
