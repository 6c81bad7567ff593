import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { migrate, openDatabase, schemaVersion } from "../../../src/store/db.ts";
import { migrations } from "../../../src/store/migrations/index.ts";

describe("store database", () => {
  test("opens in WAL mode and applies every migration once", () => {
    const dir = mkdtempSync(join(tmpdir(), "ctr-db-"));
    try {
      const db = openDatabase(join(dir, "ctr.db"));
      expect(db.query<{ journal_mode: string }, []>("PRAGMA journal_mode").get()!.journal_mode).toBe("wal");
      expect(schemaVersion(db)).toBe(migrations.length);
      expect(migrate(db, migrations)).toEqual([]);
      db.close();
      const again = openDatabase(join(dir, "ctr.db"));
      expect(schemaVersion(again)).toBe(migrations.length);
      again.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a failing migration leaves no trace and stops later ones", () => {
    const dir = mkdtempSync(join(tmpdir(), "ctr-db-"));
    try {
      const db = openDatabase(join(dir, "x.db"), []);
      const list = [
        { id: "t-001", sql: "CREATE TABLE a (x INTEGER);" },
        { id: "t-002", sql: "CREATE TABLE b (x INTEGER); CREATE TABLE a (y INTEGER);" },
        { id: "t-003", sql: "CREATE TABLE c (x INTEGER);" },
      ];
      expect(() => migrate(db, list)).toThrow();
      const tables = db.query<{ name: string }, []>("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name").all().map((r) => r.name);
      expect(tables).toEqual(["a", "schema_migrations"]);
      db.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
