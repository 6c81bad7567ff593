// Migrations are grouped by domain so each part of the engine owns its tables.
// Ids are versions: once released, a migration is never edited, only followed.
import { systemMigrations } from "./system.ts";
import { imageMigrations } from "./images.ts";
import { containerMigrations } from "./containers.ts";
import { networkMigrations } from "./networks.ts";
import { volumeMigrations } from "./volumes.ts";
import { buildMigrations } from "./builds.ts";

export interface Migration {
  id: string;
  sql: string;
}

export const migrations: readonly Migration[] = [
  ...systemMigrations,
  ...imageMigrations,
  ...containerMigrations,
  ...networkMigrations,
  ...volumeMigrations,
  ...buildMigrations,
];
