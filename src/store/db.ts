import { Database } from "bun:sqlite";
import { migrations, type Migration } from "./migrations/index.ts";

export type { Database };

/**
 * Opens the metadata database in WAL mode and applies every migration not yet
 * recorded. Each migration runs in its own transaction, so a crash mid-way
 * leaves the schema at the last whole step.
 */
export function openDatabase(path: string, list: readonly Migration[] = migrations, check?: (db: Database) => void): Database {
  const db = new Database(path, { create: true, strict: true });
  try {
    db.exec("PRAGMA journal_mode = WAL");
    db.exec("PRAGMA synchronous = NORMAL");
    db.exec("PRAGMA foreign_keys = ON");
    db.exec("PRAGMA busy_timeout = 5000");
    check?.(db);
    useIncrementalVacuum(db);
    migrate(db, list);
  } catch (e) {
    db.close();
    throw e;
  }
  return db;
}

/**
 * Freed pages go back to the file system after mass removals (vacuum.ts):
 * that needs auto_vacuum=INCREMENTAL, which an existing database gets only by
 * a VACUUM — once, the first time this version opens it (the migration for
 * databases made before; a new, empty one costs nothing).
 */
function useIncrementalVacuum(db: Database): void {
  const mode = db.query<{ auto_vacuum: number }, []>("PRAGMA auto_vacuum").get()?.auto_vacuum;
  if (mode === 2) return;
  db.exec("PRAGMA auto_vacuum = INCREMENTAL");
  db.exec("VACUUM");
}

export function migrate(db: Database, list: readonly Migration[]): string[] {
  db.exec(
    "CREATE TABLE IF NOT EXISTS schema_migrations (id TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)",
  );
  const applied = new Set(
    db.query<{ id: string }, []>("SELECT id FROM schema_migrations").all().map((r) => r.id),
  );
  const ran: string[] = [];
  for (const m of list) {
    if (applied.has(m.id)) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.query("INSERT INTO schema_migrations (id, applied_at) VALUES (?, ?)").run(m.id, Date.now());
    })();
    ran.push(m.id);
  }
  return ran;
}

export function schemaVersion(db: Database): number {
  return db.query<{ n: number }, []>("SELECT count(*) AS n FROM schema_migrations").get()?.n ?? 0;
}
