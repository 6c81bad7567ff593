// Image metadata in SQLite (tables of src/store/migrations/images.ts): images
// keyed by config digest, their layer chains (image_layers), the references
// that name them (refs: repo:tag and repo@digest) and the compressed blobs
// known to carry a diff (layer_blobs, for push and cross-repo mounts).
// Names given here are already normalised (docker.io/library/busybox:latest);
// turning what a user typed into one is the engine's job.
import type { Database } from "./db.ts";
import { NotFoundError } from "../engine/errors.ts";

export interface ImageRecord {
  /** sha256:… of the config blob. */
  id: string;
  /** The config JSON text as pulled (its digest is the id). */
  config: string;
  /** Chain ids bottom first; the last is the top layer. */
  chainIds: string[];
  topLayer: string | null;
  parent: string | null;
  manifestDigest: string | null;
  /** Sum of the layer sizes. */
  size: number;
  /** Unix seconds, from the config's `created`. */
  created: number;
  addedAt: number;
}

export type RefKind = "tag" | "digest";

export interface RefRecord {
  name: string;
  imageId: string;
  kind: RefKind;
}

export interface NewImage {
  id: string;
  config: string;
  chainIds: string[];
  manifestDigest: string | null;
  parent?: string | null;
  size: number;
  created: number;
}

export interface LayerBlob {
  digest: string;
  diffId: string;
  mediaType: string;
  size: number;
  /** registry/repository the blob was pulled from or pushed to. */
  source: string | null;
}

export interface LayerUsage {
  chainId: string;
  size: number;
  /** How many other images list this layer. */
  sharedWith: number;
}

interface ImageRow {
  id: string;
  config: string;
  top_layer: string | null;
  parent: string | null;
  manifest_digest: string | null;
  size: number;
  created: number;
  added_at: number;
}

export class ImageStore {
  constructor(private readonly db: Database) {}

  private toRecord(r: ImageRow): ImageRecord {
    return {
      id: r.id,
      config: r.config,
      chainIds: this.chainIds(r.id),
      topLayer: r.top_layer,
      parent: r.parent,
      manifestDigest: r.manifest_digest,
      size: r.size,
      created: r.created,
      addedAt: r.added_at,
    };
  }

  private chainIds(id: string): string[] {
    return this.db
      .query<{ chain_id: string }, [string]>("SELECT chain_id FROM image_layers WHERE image_id = ? ORDER BY idx")
      .all(id)
      .map((r) => r.chain_id);
  }

  /**
   * Records an image and its references in one transaction: it appears whole
   * or not at all. Adding an image that exists only adds the references (and
   * fills a missing manifest digest). Returns image ids that lost a tag to it.
   */
  add(img: NewImage, refs: { name: string; kind: RefKind }[] = []): { image: ImageRecord; retagged: string[] } {
    const retagged: string[] = [];
    this.db.transaction(() => {
      const exists = this.db.query<{ id: string }, [string]>("SELECT id FROM images WHERE id = ?").get(img.id);
      if (!exists) {
        this.db
          .query("INSERT INTO images (id, config, top_layer, parent, manifest_digest, size, created, added_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
          .run(img.id, img.config, img.chainIds.at(-1) ?? null, img.parent ?? null, img.manifestDigest, img.size, img.created, Date.now());
        const ins = this.db.query("INSERT INTO image_layers (image_id, idx, chain_id) VALUES (?, ?, ?)");
        img.chainIds.forEach((c, i) => ins.run(img.id, i, c));
      } else if (img.manifestDigest) {
        this.db.query("UPDATE images SET manifest_digest = coalesce(manifest_digest, ?) WHERE id = ?").run(img.manifestDigest, img.id);
      }
      for (const r of refs) {
        const prev = this.setRefInTx(r.name, img.id, r.kind);
        if (prev && prev !== img.id) retagged.push(prev);
      }
    })();
    return { image: this.get(img.id)!, retagged };
  }

  get(id: string): ImageRecord | null {
    const r = this.db.query<ImageRow, [string]>("SELECT * FROM images WHERE id = ?").get(id);
    return r ? this.toRecord(r) : null;
  }

  /** Images whose id starts with `prefix` (hex, with or without sha256:). */
  byIdPrefix(prefix: string): ImageRecord[] {
    const p = prefix.startsWith("sha256:") ? prefix : `sha256:${prefix}`;
    if (!/^sha256:[a-f0-9]*$/.test(p)) return [];
    return this.db
      .query<ImageRow, [string]>("SELECT * FROM images WHERE substr(id, 1, length(?1)) = ?1 ORDER BY id")
      .all(p)
      .map((r) => this.toRecord(r));
  }

  /** The image a normalised reference names, or null. */
  byRef(name: string): ImageRecord | null {
    const r = this.db.query<{ image_id: string }, [string]>("SELECT image_id FROM refs WHERE name = ?").get(name);
    return r ? this.get(r.image_id) : null;
  }

  list(): ImageRecord[] {
    return this.db
      .query<ImageRow, []>("SELECT * FROM images ORDER BY created DESC, id")
      .all()
      .map((r) => this.toRecord(r));
  }

  refsOf(id: string): RefRecord[] {
    return this.db
      .query<{ name: string; kind: RefKind }, [string]>("SELECT name, kind FROM refs WHERE image_id = ? ORDER BY name")
      .all(id)
      .map((r) => ({ name: r.name, kind: r.kind, imageId: id }));
  }

  allRefs(): RefRecord[] {
    return this.db
      .query<{ name: string; kind: RefKind; image_id: string }, []>("SELECT name, kind, image_id FROM refs ORDER BY name")
      .all()
      .map((r) => ({ name: r.name, kind: r.kind, imageId: r.image_id }));
  }

  /** Points `name` at `id` (moving a tag); returns the image it named before, if any. */
  setRef(name: string, id: string, kind: RefKind): string | null {
    if (!this.get(id)) throw new NotFoundError(`No such image: ${id}`);
    return this.db.transaction(() => this.setRefInTx(name, id, kind))();
  }

  private setRefInTx(name: string, id: string, kind: RefKind): string | null {
    const prev = this.db.query<{ image_id: string }, [string]>("SELECT image_id FROM refs WHERE name = ?").get(name)?.image_id ?? null;
    this.db.query("INSERT INTO refs (name, image_id, kind) VALUES (?, ?, ?) ON CONFLICT(name) DO UPDATE SET image_id = excluded.image_id, kind = excluded.kind").run(name, id, kind);
    return prev;
  }

  removeRef(name: string): boolean {
    return this.db.query("DELETE FROM refs WHERE name = ?").run(name).changes > 0;
  }

  /** Images built on this one (graph edge image → parent). */
  children(id: string): string[] {
    return this.db
      .query<{ id: string }, [string]>("SELECT id FROM images WHERE parent = ? ORDER BY id")
      .all(id)
      .map((r) => r.id);
  }

  /**
   * Deletes the image row with its references and layer list; returns its
   * chain ids no other image lists any more, top first (the order the layer
   * store can remove them in).
   */
  delete(id: string): { unusedLayers: string[] } {
    const chain = this.chainIds(id);
    if (!this.get(id)) throw new NotFoundError(`No such image: ${id}`);
    this.db.transaction(() => {
      this.db.query("DELETE FROM refs WHERE image_id = ?").run(id);
      this.db.query("UPDATE images SET parent = NULL WHERE parent = ?").run(id);
      this.db.query("DELETE FROM images WHERE id = ?").run(id);
    })();
    const unused = [...new Set(chain)].filter((c) => this.imagesSharingLayer(c).length === 0).reverse();
    return { unusedLayers: unused };
  }

  /** Images whose chain includes this layer. */
  imagesSharingLayer(chainId: string): string[] {
    return this.db
      .query<{ image_id: string }, [string]>("SELECT DISTINCT image_id FROM image_layers WHERE chain_id = ? ORDER BY image_id")
      .all(chainId)
      .map((r) => r.image_id);
  }

  /** Per layer of the image: its size and how many other images share it; unique vs shared bytes. */
  usage(id: string): { layers: LayerUsage[]; uniqueSize: number; sharedSize: number } {
    const rows = this.db
      .query<{ chain_id: string; size: number | null; others: number }, [string]>(
        `SELECT il.chain_id, l.size,
                (SELECT count(DISTINCT o.image_id) FROM image_layers o WHERE o.chain_id = il.chain_id AND o.image_id != il.image_id) AS others
           FROM image_layers il LEFT JOIN layers l ON l.chain_id = il.chain_id
          WHERE il.image_id = ? ORDER BY il.idx`,
      )
      .all(id);
    const layers = rows.map((r) => ({ chainId: r.chain_id, size: r.size ?? 0, sharedWith: r.others }));
    let uniqueSize = 0;
    let sharedSize = 0;
    for (const l of layers) {
      if (l.sharedWith > 0) sharedSize += l.size;
      else uniqueSize += l.size;
    }
    return { layers, uniqueSize, sharedSize };
  }

  // Compressed blobs ---------------------------------------------------------

  recordLayerBlob(b: LayerBlob): void {
    this.db
      .query(
        `INSERT INTO layer_blobs (digest, diff_id, media_type, size, source) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT(digest) DO UPDATE SET source = coalesce(excluded.source, layer_blobs.source)`,
      )
      .run(b.digest, b.diffId, b.mediaType, b.size, b.source);
  }

  layerBlob(digest: string): LayerBlob | null {
    const r = this.db
      .query<{ digest: string; diff_id: string; media_type: string; size: number; source: string | null }, [string]>("SELECT * FROM layer_blobs WHERE digest = ?")
      .get(digest);
    return r ? { digest: r.digest, diffId: r.diff_id, mediaType: r.media_type, size: r.size, source: r.source } : null;
  }

  /** Does any layer (of any chain) still hold this diff? Then its compressed blob stays. */
  diffInUse(diffId: string): boolean {
    return !!this.db.query<{ n: number }, [string]>("SELECT 1 AS n FROM layers WHERE diff_id = ? LIMIT 1").get(diffId);
  }

  blobsForDiff(diffId: string): LayerBlob[] {
    return this.db
      .query<{ digest: string; diff_id: string; media_type: string; size: number; source: string | null }, [string]>("SELECT * FROM layer_blobs WHERE diff_id = ?")
      .all(diffId)
      .map((r) => ({ digest: r.digest, diffId: r.diff_id, mediaType: r.media_type, size: r.size, source: r.source }));
  }
}
