import type { Migration } from "./index.ts";

export const systemMigrations: Migration[] = [
  {
    id: "system-001",
    sql: `CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);`,
  },
];
