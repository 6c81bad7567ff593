// The builder's cache rows (tables of src/store/migrations/builds.ts). A row
// maps a step's key to the image it produced; the image itself lives in the
// image store, so a hit is only good while that image exists.
import type { Database } from "./db.ts";

export interface CacheEntry {
  key: string;
  imageId: string;
  parent: string | null;
  kind: string;
  description: string;
  size: number;
  createdAt: number;
  lastUsedAt: number;
  usageCount: number;
}

export interface CacheMount {
  id: string;
  dir: string;
  createdAt: number;
  lastUsedAt: number;
}

interface Row {
  key: string;
  image_id: string;
  parent: string | null;
  kind: string;
  description: string;
  size: number;
  created_at: number;
  last_used_at: number;
  usage_count: number;
}

const toEntry = (r: Row): CacheEntry => ({
  key: r.key,
  imageId: r.image_id,
  parent: r.parent,
  kind: r.kind,
  description: r.description,
  size: r.size,
  createdAt: r.created_at,
  lastUsedAt: r.last_used_at,
  usageCount: r.usage_count,
});

export class BuildCacheStore {
  constructor(private readonly db: Database) {}

  get(key: string): CacheEntry | null {
    const r = this.db.query<Row, [string]>("SELECT * FROM build_cache WHERE key = ?").get(key);
    return r ? toEntry(r) : null;
  }

  /** Marks a hit (system df shows LastUsedAt and UsageCount). */
  touch(key: string): void {
    this.db.query("UPDATE build_cache SET last_used_at = ?, usage_count = usage_count + 1 WHERE key = ?").run(Date.now(), key);
  }

  put(e: Omit<CacheEntry, "createdAt" | "lastUsedAt" | "usageCount">): void {
    const now = Date.now();
    this.db
      .query(
        `INSERT INTO build_cache (key, image_id, parent, kind, description, size, created_at, last_used_at, usage_count)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0)
         ON CONFLICT(key) DO UPDATE SET image_id = excluded.image_id, parent = excluded.parent, size = excluded.size, last_used_at = excluded.last_used_at`,
      )
      .run(e.key, e.imageId, e.parent, e.kind, e.description, e.size, now, now);
  }

  delete(key: string): void {
    this.db.query("DELETE FROM build_cache WHERE key = ?").run(key);
  }

  list(): CacheEntry[] {
    return this.db.query<Row, []>("SELECT * FROM build_cache ORDER BY created_at").all().map(toEntry);
  }

  /** Rows whose image is gone (removed with rmi or prune) are no cache at all. */
  dropDangling(): number {
    return this.db.query("DELETE FROM build_cache WHERE image_id NOT IN (SELECT id FROM images)").run().changes;
  }

  mount(id: string): CacheMount | null {
    const r = this.db.query<{ id: string; dir: string; created_at: number; last_used_at: number }, [string]>("SELECT * FROM build_cache_mounts WHERE id = ?").get(id);
    return r ? { id: r.id, dir: r.dir, createdAt: r.created_at, lastUsedAt: r.last_used_at } : null;
  }

  putMount(id: string, dir: string): CacheMount {
    const now = Date.now();
    this.db
      .query("INSERT INTO build_cache_mounts (id, dir, created_at, last_used_at) VALUES (?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET last_used_at = excluded.last_used_at")
      .run(id, dir, now, now);
    return this.mount(id)!;
  }

  mounts(): CacheMount[] {
    return this.db
      .query<{ id: string; dir: string; created_at: number; last_used_at: number }, []>("SELECT * FROM build_cache_mounts ORDER BY created_at")
      .all()
      .map((r) => ({ id: r.id, dir: r.dir, createdAt: r.created_at, lastUsedAt: r.last_used_at }));
  }

  deleteMount(id: string): void {
    this.db.query("DELETE FROM build_cache_mounts WHERE id = ?").run(id);
  }
}
