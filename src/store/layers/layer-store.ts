// The layer store: rows of the `layers` table (src/store/migrations/images.ts)
// over one LayerDriver. A row exists only for a complete layer directory: the
// driver extracts into a temp dir and renames; the row is inserted after.
import { randomBytes } from "node:crypto";
import { rm } from "node:fs/promises";
import type { Database } from "../db.ts";
import { ConflictError, NotFoundError } from "../../engine/errors.ts";
import type { ByteSource } from "../tar/byte-source.ts";
import { exportTar } from "../graphdriver/diff-tar.ts";
import type { Change, LayerDriver, MountSpec, RwMountOptions } from "../graphdriver/driver.ts";
import { chainIdOf } from "./chain-id.ts";
import { dirname } from "node:path";
import type { LostFound } from "../lost-found.ts";

export { chainIdOf, chainIdsOf } from "./chain-id.ts";

export interface LayerRecord {
  chainId: string;
  diffId: string;
  parent: string | null;
  cacheId: string;
  /** Bytes of the layer's content (Docker's layer Size). */
  size: number;
  createdAt: number;
}

export interface ApplyRequest {
  diffId: string;
  parentChainId: string | null;
}

export interface RepairReport {
  removedTemp: boolean;
  /** Rows whose directory was gone; deleted. */
  removedRows: string[];
  /** Rows whose directory was gone but an image still lists them; kept for the image code to judge. */
  brokenRows: string[];
  /** Directories no row pointed at: moved under lost+found (never deleted: the rows may be what was lost). */
  movedAside: string[];
}

interface Row {
  chain_id: string;
  diff_id: string;
  parent: string | null;
  cache_id: string;
  size: number;
  created_at: number;
}

const toRecord = (r: Row): LayerRecord => ({
  chainId: r.chain_id,
  diffId: r.diff_id,
  parent: r.parent,
  cacheId: r.cache_id,
  size: r.size,
  createdAt: r.created_at,
});

export class LayerStore {
  private readonly inflight = new Map<string, Promise<LayerRecord>>();

  constructor(
    private readonly db: Database,
    readonly driver: LayerDriver,
  ) {}

  get(chainId: string): LayerRecord | null {
    const r = this.db.query<Row, [string]>("SELECT * FROM layers WHERE chain_id = ?").get(chainId);
    return r ? toRecord(r) : null;
  }

  list(): LayerRecord[] {
    return this.db.query<Row, []>("SELECT * FROM layers ORDER BY created_at").all().map(toRecord);
  }

  /**
   * Extracts `tar` (uncompressed) as the layer diffId on top of parentChainId.
   * Idempotent; a second apply of the same chain while one runs waits for it
   * (its own tar is cancelled, unread, and it shares the first one's outcome). overlay2 layers may be applied before
   * their parent exists; vfs waits for an in-flight parent.
   */
  async apply(req: ApplyRequest, tar: ByteSource): Promise<LayerRecord> {
    const chainId = chainIdOf(req.parentChainId, req.diffId);
    // No await before inflight.set: a concurrent caller must see the first one.
    const existing = this.get(chainId);
    const running = this.inflight.get(chainId);
    if (existing || running) {
      await cancel(tar);
      if (existing) return existing;
      // The first apply failed: this caller's tar is gone, so it fails too and may retry.
      return running!;
    }
    const p = this.extract(chainId, req, tar).finally(() => this.inflight.delete(chainId));
    this.inflight.set(chainId, p);
    return p;
  }

  private async extract(chainId: string, req: ApplyRequest, tar: ByteSource): Promise<LayerRecord> {
    let parentCache: string | null = null;
    if (req.parentChainId && this.driver.needsParent) {
      const parent = this.get(req.parentChainId) ?? (await this.inflight.get(req.parentChainId));
      if (!parent) throw new NotFoundError(`parent layer ${req.parentChainId} not found`);
      parentCache = parent.cacheId;
    }
    const cacheId = randomBytes(32).toString("hex");
    const res = await this.driver.applyTar(cacheId, parentCache, tar, { diffId: req.diffId });
    const rec: LayerRecord = {
      chainId,
      diffId: req.diffId,
      parent: req.parentChainId,
      cacheId,
      size: res.size,
      createdAt: Date.now(),
    };
    try {
      this.db
        .query("INSERT INTO layers (chain_id, diff_id, parent, cache_id, size, created_at) VALUES (?, ?, ?, ?, ?, ?)")
        .run(rec.chainId, rec.diffId, rec.parent, rec.cacheId, rec.size, rec.createdAt);
    } catch (e) {
      await this.driver.remove(cacheId);
      throw e;
    }
    return rec;
  }

  /** The layer and its ancestors, top first; throws if a link of the chain is missing. */
  chain(chainId: string): LayerRecord[] {
    const out: LayerRecord[] = [];
    for (let id: string | null = chainId; id; ) {
      const r = this.get(id);
      if (!r) throw new NotFoundError(`layer ${id} not found`);
      out.push(r);
      id = r.parent;
    }
    return out;
  }

  /** Sum of the sizes along the chain (an image's size). */
  chainSize(chainId: string): number {
    return this.chain(chainId).reduce((n, r) => n + r.size, 0);
  }

  imagesUsing(chainId: string): string[] {
    return this.db
      .query<{ image_id: string }, [string]>("SELECT DISTINCT image_id FROM image_layers WHERE chain_id = ? ORDER BY image_id")
      .all(chainId)
      .map((r) => r.image_id);
  }

  children(chainId: string): string[] {
    return this.db
      .query<{ chain_id: string }, [string]>("SELECT chain_id FROM layers WHERE parent = ?")
      .all(chainId)
      .map((r) => r.chain_id);
  }

  /** Total bytes and count of all layers (for `system df`). */
  usage(): { count: number; size: number } {
    const r = this.db.query<{ n: number; s: number | null }, []>("SELECT count(*) AS n, sum(size) AS s FROM layers").get();
    return { count: r?.n ?? 0, size: r?.s ?? 0 };
  }

  /**
   * Deletes one layer, refusing while an image lists it, a child layer sits
   * on it, or `isInUse` (the container store) says a container uses it.
   */
  async remove(chainId: string, isInUse: (chainId: string) => boolean = () => false): Promise<void> {
    const rec = this.get(chainId);
    if (!rec) throw new NotFoundError(`layer ${chainId} not found`);
    const images = this.imagesUsing(chainId);
    if (images.length) throw new ConflictError(`layer ${chainId} is used by image ${images[0]}`);
    if (this.children(chainId).length) throw new ConflictError(`layer ${chainId} has child layers`);
    if (isInUse(chainId)) throw new ConflictError(`layer ${chainId} is used by a container`);
    // Row first: a crash after it leaves an orphan dir, which repair() moves aside.
    this.db.query("DELETE FROM layers WHERE chain_id = ?").run(chainId);
    await this.driver.remove(rec.cacheId);
  }

  /** At daemon start: drop temp dirs and rows without a dir; move dirs without a row aside. */
  async repair(lost: LostFound): Promise<RepairReport> {
    this.driver.cleanupTemp();
    const report: RepairReport = { removedTemp: true, removedRows: [], brokenRows: [], movedAside: [] };
    const onDisk = new Set(this.driver.layerIds());
    for (const r of this.list()) {
      if (onDisk.has(r.cacheId)) continue;
      if (this.imagesUsing(r.chainId).length || this.children(r.chainId).length) {
        report.brokenRows.push(r.chainId);
        continue;
      }
      this.db.query("DELETE FROM layers WHERE chain_id = ?").run(r.chainId);
      report.removedRows.push(r.chainId);
    }
    const known = new Set(this.list().map((r) => r.cacheId));
    for (const id of onDisk) {
      if (known.has(id)) continue;
      lost.moveAside("layers", dirname(this.driver.diffPath(id)));
      report.movedAside.push(id);
    }
    return report;
  }

  // Container rw layers ---------------------------------------------------

  /** The rw layer of a container over image layer `chainId` (null: no layers). */
  createRw(containerId: string, chainId: string | null): Promise<MountSpec> {
    const lowers = chainId ? this.chain(chainId).map((r) => r.cacheId) : [];
    return this.driver.createRw(containerId, lowers);
  }
  rwMount(containerId: string, o?: RwMountOptions): MountSpec {
    return this.driver.rwMount(containerId, o);
  }
  removeRw(containerId: string): Promise<void> {
    return this.driver.removeRw(containerId);
  }
  /**
   * The rw layer leaves its place now (one rename); the returned call deletes
   * it — after the answer: `rm` of a container spent ~1.5 ms deleting it before.
   */
  setAsideRw(containerId: string): () => Promise<void> {
    const aside = this.driver.setAsideRw(containerId);
    // On the thread pool: the next request (a create right after) must not wait for the unlinks.
    return async () => {
      if (aside) await rm(aside, { recursive: true, force: true });
    };
  }
  changes(containerId: string): Promise<Change[]> {
    return this.driver.changes(containerId);
  }
  rwSize(containerId: string): Promise<number> {
    return this.driver.rwSize(containerId);
  }
  diffTar(containerId: string): ReadableStream<Uint8Array> {
    return this.driver.diffTar(containerId);
  }
  /** A tar of a whole tree (e.g. a container's mounted rootfs for `ctr export`). */
  exportTar(dir: string): ReadableStream<Uint8Array> {
    return exportTar(dir);
  }
}

async function cancel(tar: ByteSource): Promise<void> {
  try {
    if (tar instanceof ReadableStream) {
      if (!tar.locked) await tar.cancel();
    } else {
      await (tar as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]().return?.();
    }
  } catch {
    // the caller's stream is theirs; failing to cancel it is not our error
  }
}
