import type { Database } from "../../store/db.ts";
import { ConflictError, InvalidParameterError, NotFoundError } from "../errors.ts";
import type { Container } from "./types.ts";

interface Row {
  id: string;
  name: string;
  image_id: string;
  image_ref: string;
  config: string;
  host_config: string;
  networking: string;
  network_settings: string;
  mounts: string;
  state: string;
  restart_count: number;
  manually_stopped: number;
  created: string;
}

function fromRow(r: Row): Container {
  return {
    id: r.id,
    name: r.name,
    imageId: r.image_id,
    imageRef: r.image_ref,
    config: JSON.parse(r.config),
    hostConfig: JSON.parse(r.host_config),
    networking: JSON.parse(r.networking),
    networkSettings: JSON.parse(r.network_settings),
    mounts: JSON.parse(r.mounts),
    state: JSON.parse(r.state),
    restartCount: r.restart_count,
    manuallyStopped: r.manually_stopped === 1,
    created: r.created,
  };
}

/** Containers in SQLite: every change is one statement, so a crash never half-writes one. */
export class ContainerStore {
  constructor(private readonly db: Database) {}

  insert(c: Container): void {
    try {
      this.db
        .query(
          `INSERT INTO containers (id, name, image_id, image_ref, config, host_config, networking, network_settings, mounts, state, restart_count, created)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          c.id,
          c.name,
          c.imageId,
          c.imageRef,
          JSON.stringify(c.config),
          JSON.stringify(c.hostConfig),
          JSON.stringify(c.networking),
          JSON.stringify(c.networkSettings),
          JSON.stringify(c.mounts),
          JSON.stringify(c.state),
          c.restartCount,
          c.created,
        );
    } catch (e) {
      if (String(e).includes("UNIQUE") && String(e).includes("name")) throw nameInUse(c.name, this.byName(c.name)?.id ?? "");
      throw e;
    }
  }

  save(c: Container): void {
    this.db
      .query(
        `UPDATE containers SET name = ?, config = ?, host_config = ?, networking = ?, network_settings = ?, state = ?, restart_count = ?, manually_stopped = ? WHERE id = ?`,
      )
      .run(
        c.name,
        JSON.stringify(c.config),
        JSON.stringify(c.hostConfig),
        JSON.stringify(c.networking),
        JSON.stringify(c.networkSettings),
        JSON.stringify(c.state),
        c.restartCount,
        c.manuallyStopped ? 1 : 0,
        c.id,
      );
  }

  /** One column only: the caller's copy of the container may be stale. */
  setManuallyStopped(id: string, stopped: boolean): void {
    this.db.query("UPDATE containers SET manually_stopped = ? WHERE id = ?").run(stopped ? 1 : 0, id);
  }

  delete(id: string): void {
    this.db.query("DELETE FROM containers WHERE id = ?").run(id);
  }

  all(): Container[] {
    return this.db.query<Row, []>("SELECT * FROM containers ORDER BY created DESC").all().map(fromRow);
  }

  byName(name: string): Container | null {
    const r = this.db.query<Row, [string]>("SELECT * FROM containers WHERE name = ?").get(name.replace(/^\//, ""));
    return r ? fromRow(r) : null;
  }

  /** Docker's lookup order: full id, exact name, then a unique id prefix. */
  find(ref: string): Container | null {
    if (!ref) return null;
    const full = this.db.query<Row, [string]>("SELECT * FROM containers WHERE id = ?").get(ref);
    if (full) return fromRow(full);
    const named = this.byName(ref);
    if (named) return named;
    if (!/^[0-9a-f]+$/.test(ref)) return null;
    const rows = this.db.query<Row, [string]>("SELECT * FROM containers WHERE id LIKE ? || '%' LIMIT 2").all(ref);
    if (rows.length > 1) throw new InvalidParameterError(`multiple IDs found with provided prefix: ${ref}`);
    return rows[0] ? fromRow(rows[0]) : null;
  }

  get(ref: string): Container {
    const c = this.find(ref);
    if (!c) throw new NotFoundError(`No such container: ${ref}`);
    return c;
  }

  usingImage(imageId: string): Container[] {
    return this.db.query<Row, [string]>("SELECT * FROM containers WHERE image_id = ?").all(imageId).map(fromRow);
  }
}

export function nameInUse(name: string, id: string): ConflictError {
  return new ConflictError(
    `Conflict. The container name "/${name}" is already in use by container "${id}". You have to remove (or rename) that container to be able to reuse that name.`,
  );
}
