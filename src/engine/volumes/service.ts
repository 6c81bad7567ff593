import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { Database } from "../../store/db.ts";
import { ConflictError, InvalidParameterError, NotFoundError } from "../errors.ts";

export interface Volume {
  Name: string;
  Driver: string;
  Mountpoint: string;
  CreatedAt: string;
  Labels: Record<string, string> | null;
  Options: Record<string, string> | null;
  Scope: "local";
  /** ctr's own: created implicitly for an image VOLUME or `-v /path` (removed with `rm -v`). */
  Anonymous?: boolean;
}

interface Row {
  name: string;
  driver: string;
  labels: string;
  options: string;
  anonymous: number;
  created_at: string;
}

const VALID = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

export interface VolumeEvents {
  publish(e: { Type: string; Action: string; Actor: { ID: string; Attributes: Record<string, string> } }): void;
}

/** Local named volumes: a directory `<root>/volumes/<name>/_data` and a row in SQLite. */
export class VolumeService {
  constructor(
    private readonly db: Database,
    private readonly dir: string,
    private readonly events: VolumeEvents,
  ) {}

  private view(r: Row): Volume {
    const labels = JSON.parse(r.labels);
    const options = JSON.parse(r.options);
    return {
      Name: r.name,
      Driver: r.driver,
      Mountpoint: this.mountpoint(r.name),
      CreatedAt: r.created_at,
      Labels: Object.keys(labels).length ? labels : null,
      Options: Object.keys(options).length ? options : null,
      Scope: "local",
      ...(r.anonymous ? { Anonymous: true } : {}),
    };
  }

  mountpoint(name: string): string {
    return join(this.dir, name, "_data");
  }

  create(o: { Name?: string; Driver?: string; Labels?: Record<string, string>; DriverOpts?: Record<string, string>; anonymous?: boolean }): Volume {
    const name = o.Name || randomBytes(32).toString("hex");
    if (!VALID.test(name)) throw new InvalidParameterError(`create ${name}: "${name}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed`);
    if (o.Driver && o.Driver !== "local") throw new NotFoundError(`plugin "${o.Driver}" not found`);
    for (const k of Object.keys(o.DriverOpts ?? {})) {
      if (!["type", "device", "o"].includes(k)) throw new InvalidParameterError(`invalid option key: "${k}"`);
    }
    const existing = this.find(name);
    if (existing) return existing; // docker: creating an existing volume returns it
    // The directory first, then the row: a crash leaves an orphan dir, never a row without data.
    const tmp = join(this.dir, `.tmp-${name}`);
    mkdirSync(join(tmp, "_data"), { recursive: true, mode: 0o755 });
    renameSync(tmp, join(this.dir, name));
    this.db
      .query("INSERT INTO volumes (name, driver, labels, options, anonymous, created_at) VALUES (?, 'local', ?, ?, ?, ?)")
      .run(name, JSON.stringify(o.Labels ?? {}), JSON.stringify(o.DriverOpts ?? {}), o.anonymous ? 1 : 0, new Date().toISOString().replace(/\.\d+Z$/, "Z"));
    this.events.publish({ Type: "volume", Action: "create", Actor: { ID: name, Attributes: { driver: "local" } } });
    return this.get(name);
  }

  find(name: string): Volume | null {
    const r = this.db.query<Row, [string]>("SELECT * FROM volumes WHERE name = ?").get(name);
    return r ? this.view(r) : null;
  }

  get(name: string): Volume {
    const v = this.find(name);
    if (!v) throw new NotFoundError(`get ${name}: no such volume`);
    return v;
  }

  list(filters: Record<string, string[]> = {}): Volume[] {
    const rows = this.db.query<Row, []>("SELECT * FROM volumes ORDER BY name").all();
    return rows
      .map((r) => this.view(r))
      .filter((v) =>
        Object.entries(filters).every(([k, vals]) =>
          vals.some((val) => {
            if (k === "dangling") return (this.users(v.Name).length === 0) === (val === "true" || val === "1");
            if (k === "name") return v.Name.includes(val);
            if (k === "driver") return v.Driver === val;
            if (k === "label") {
              const [lk, lv] = val.split("=", 2) as [string, string | undefined];
              return !!v.Labels && lk in v.Labels && (lv === undefined || v.Labels[lk] === lv);
            }
            throw new InvalidParameterError(`invalid filter '${k}'`);
          }),
        ),
      );
  }

  users(name: string): string[] {
    return this.db.query<{ container_id: string }, [string]>("SELECT container_id FROM volume_refs WHERE volume = ?").all(name).map((r) => r.container_id);
  }

  use(name: string, containerId: string): void {
    this.db.query("INSERT OR IGNORE INTO volume_refs (volume, container_id) VALUES (?, ?)").run(name, containerId);
  }

  /** The container is gone: drop its references; with `removeAnonymous`, its anonymous volumes too. */
  release(containerId: string, removeAnonymous: boolean): void {
    const names = this.db.query<{ volume: string }, [string]>("SELECT volume FROM volume_refs WHERE container_id = ?").all(containerId).map((r) => r.volume);
    this.db.query("DELETE FROM volume_refs WHERE container_id = ?").run(containerId);
    if (!removeAnonymous) return;
    for (const n of names) {
      const v = this.find(n);
      if (v?.Anonymous && this.users(n).length === 0) this.remove(n, false);
    }
  }

  remove(name: string, force: boolean): void {
    const v = this.find(name);
    if (!v) {
      if (force) return;
      throw new NotFoundError(`get ${name}: no such volume`);
    }
    const users = this.users(name);
    if (users.length) throw new ConflictError(`remove ${name}: volume is in use - [${users.join(", ")}]`);
    this.db.query("DELETE FROM volumes WHERE name = ?").run(name);
    rmSync(join(this.dir, name), { recursive: true, force: true });
    this.events.publish({ Type: "volume", Action: "destroy", Actor: { ID: name, Attributes: { driver: "local" } } });
  }

  prune(filters: Record<string, string[]> = {}, all = false): { VolumesDeleted: string[]; SpaceReclaimed: number } {
    const deleted: string[] = [];
    for (const v of this.list(filters)) {
      if (this.users(v.Name).length) continue;
      // Docker ≥ 23 prunes only anonymous volumes unless all=true.
      if (!all && !v.Anonymous) continue;
      this.remove(v.Name, false);
      deleted.push(v.Name);
    }
    return { VolumesDeleted: deleted, SpaceReclaimed: 0 };
  }

  /** At start: directories without a row are leftovers of a crash between mkdir and insert. */
  repair(): void {
    mkdirSync(this.dir, { recursive: true });
    for (const name of readdirSync(this.dir)) {
      if (name.startsWith(".tmp-") || (!this.find(name) && existsSync(join(this.dir, name)))) {
        rmSync(join(this.dir, name), { recursive: true, force: true });
      }
    }
  }
}
