import type { Migration } from "./index.ts";

export const networkMigrations: Migration[] = [];
