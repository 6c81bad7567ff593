import type { Migration } from "./index.ts";

export const volumeMigrations: Migration[] = [];
