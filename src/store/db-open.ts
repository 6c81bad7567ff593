// Opening the daemon's database so that a damaged one is refused, never taken
// for a fresh engine: a fresh engine would then treat every layer, container
// and volume on disk as unknown. Each refusal is one line naming the file and
// the way back; nothing on disk is changed before the database is trusted.
import { existsSync, readdirSync, statSync, unlinkSync } from "node:fs";
import { openDatabase, type Database } from "./db.ts";
import { walShortfall } from "./wal-check.ts";
import type { Layout } from "./layout.ts";

export class DatabaseRefusedError extends Error {}

/** Whether the root holds anything a database should account for. */
export function rootHoldsData(l: Layout): boolean {
  const has = (d: string, skip: (n: string) => boolean = () => false) => existsSync(d) && readdirSync(d).some((n) => !skip(n));
  return has(l.layers, (n) => n === ".tmp" || n === "rw" || n === "l") || has(`${l.layers}/rw`) || has(l.containers) || has(l.volumes) || has(l.blobs);
}

export interface OpenReport {
  /** Milliseconds PRAGMA quick_check took (the integrity check at start). */
  checkMs: number;
}

export function openStoreDatabase(l: Layout, report: Partial<OpenReport> = {}): Database {
  const path = l.db;
  const size = existsSync(path) ? statSync(path).size : -1;
  if (size <= 0 && rootHoldsData(l)) {
    const what = size < 0 ? "is missing" : "is empty (0 bytes)";
    throw new DatabaseRefusedError(
      `${path} ${what} but ${l.root} holds layers, containers or volumes: refusing to start over them as a new engine. ` +
        `Restore ${path} from a backup, or move ${l.root} aside to start empty`,
    );
  }
  // An empty file (no data to lose) is a new database; SQLite would take it as one anyway.
  if (size === 0) unlinkSync(path);
  const short = walShortfall(path);
  if (short) {
    throw new DatabaseRefusedError(
      `${path}-wal is cut short: it holds ${short.present} of the ${short.committed} frames that were committed, and opening it would silently roll the store back. ` +
        `Restore the file, or move ${path}-wal and ${path}-shm aside to accept the loss`,
    );
  }
  try {
    return openDatabase(path, undefined, (db) => {
      const t0 = performance.now();
      const rows = db.query<{ quick_check: string }, []>("PRAGMA quick_check").all().map((r) => r.quick_check);
      report.checkMs = performance.now() - t0;
      if (rows.length !== 1 || rows[0] !== "ok") throw new DatabaseRefusedError(corrupt(path, rows.slice(0, 2).join("; ")));
    });
  } catch (e) {
    if (e instanceof DatabaseRefusedError) throw e;
    const code = (e as { code?: string }).code ?? "";
    if (/^SQLITE_(NOTADB|CORRUPT)/.test(code)) throw new DatabaseRefusedError(corrupt(path, (e as Error).message));
    throw e;
  }
}

function corrupt(path: string, detail: string): string {
  return (
    `${path} is corrupt (${detail}): refusing to start. Keep a copy of it, then restore it from a backup ` +
    `or recover what SQLite can read (sqlite3 ${path} .recover | sqlite3 ${path}.recovered, then move that in its place)`
  );
}
