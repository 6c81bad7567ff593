// Gives freed pages back after mass removals (the database is in
// auto_vacuum=INCREMENTAL mode, db.ts): only when enough is free to matter,
// so the common case costs two header reads. In WAL mode the file shrinks at
// the checkpoint, which is run right after.
import type { Database } from "./db.ts";

/** Pages free before a vacuum is worth it: at least 64 and a tenth of the file. */
export function worthVacuum(free: number, total: number): boolean {
  return free >= 64 && free * 10 >= total;
}

export function reclaimFreePages(db: Database): number {
  const free = db.query<{ freelist_count: number }, []>("PRAGMA freelist_count").get()?.freelist_count ?? 0;
  const total = db.query<{ page_count: number }, []>("PRAGMA page_count").get()?.page_count ?? 0;
  if (!worthVacuum(free, total)) return 0;
  db.exec("PRAGMA incremental_vacuum");
  db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  return free;
}

/** Runs reclaimFreePages a moment after work happened (poke), once for a burst of it. */
export function vacuumer(db: Database, delayMs = 1000, onReclaim: (pages: number) => void = () => {}): { poke(): void; stop(): void } {
  let timer: Timer | null = null;
  return {
    poke() {
      if (timer) return;
      timer = setTimeout(() => {
        timer = null;
        const n = reclaimFreePages(db);
        if (n) onReclaim(n);
      }, delayMs);
      timer.unref?.();
    },
    stop() {
      if (timer) clearTimeout(timer);
      timer = null;
    },
  };
}
