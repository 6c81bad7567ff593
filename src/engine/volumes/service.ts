import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { Database } from "../../store/db.ts";
import { ConflictError, InvalidParameterError, NotFoundError } from "../errors.ts";
import { mountVolume, needsMount, unmountVolume, validateOptions } from "./local-driver.ts";
import { dirBytes } from "./usage.ts";
import type { LostFound } from "../../store/lost-found.ts";
import { matchesLabels } from "../filters.ts";
import { stringMap } from "../string-map.ts";

/** Docker ≥ 23 marks anonymous volumes with this label; `volume prune` without -a removes only those. */
export const ANONYMOUS_LABEL = "com.docker.volume.anonymous";

export interface Volume {
  Name: string;
  Driver: string;
  Mountpoint: string;
  CreatedAt: string;
  Labels: Record<string, string> | null;
  Options: Record<string, string> | null;
  Scope: "local";
}

export interface VolumeCreate {
  Name?: string;
  Driver?: string;
  Labels?: Record<string, string>;
  DriverOpts?: Record<string, string>;
  /** Created implicitly for an image VOLUME, `-v /path` or a source-less --mount (removed with `rm -v`). */
  anonymous?: boolean;
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
    const labels = stringMap(JSON.parse(r.labels));
    if (r.anonymous) labels[ANONYMOUS_LABEL] ??= "";
    const options = stringMap(JSON.parse(r.options));
    return {
      Name: r.name,
      Driver: r.driver,
      Mountpoint: this.mountpoint(r.name),
      CreatedAt: r.created_at,
      Labels: Object.keys(labels).length ? labels : null,
      Options: Object.keys(options).length ? options : null,
      Scope: "local",
    };
  }

  mountpoint(name: string): string {
    return join(this.dir, name, "_data");
  }

  private isAnonymous(v: Volume): boolean {
    return !!v.Labels && ANONYMOUS_LABEL in v.Labels;
  }

  create(o: VolumeCreate): Volume {
    const name = o.Name || randomBytes(32).toString("hex");
    // moby ≥ 23 labels a volume created without a name anonymous, so `volume prune` (API ≥ 1.42) takes it.
    const labels = o.Name ? (o.Labels ?? {}) : { ...o.Labels, [ANONYMOUS_LABEL]: "" };
    // dockerd's local driver (volume/local validateName), word for word.
    if (name.length === 1) throw new InvalidParameterError(`create ${name}: volume name is too short, names should be at least two alphanumeric characters`);
    if (!VALID.test(name)) throw new InvalidParameterError(`create ${name}: "${name}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`);
    if (o.Driver && o.Driver !== "local") throw new NotFoundError(`create ${name}: error looking up volume plugin ${o.Driver}: plugin "${o.Driver}" not found`);
    try {
      validateOptions(o.DriverOpts ?? {});
    } catch (e) {
      throw new InvalidParameterError(`create ${name}: ${(e as Error).message}`);
    }
    const existing = this.find(name);
    if (existing) return existing; // docker: creating an existing volume returns it
    // The directory first, then the row: a crash leaves an orphan dir, never a row without data.
    // A failure (disk full: ENOSPC, SQLITE_FULL) takes back what this create made.
    // The temporary name must not grow with the volume's: a 255-character name (dockerd takes it) is the most a directory entry holds.
    const tmp = join(this.dir, `.tmp-${randomBytes(8).toString("hex")}`);
    const final = join(this.dir, name);
    try {
      mkdirSync(join(tmp, "_data"), { recursive: true, mode: 0o755 });
      renameSync(tmp, final);
    } catch (e) {
      rmSync(tmp, { recursive: true, force: true });
      throw e;
    }
    try {
      this.db
        .query("INSERT INTO volumes (name, driver, labels, options, anonymous, created_at) VALUES (?, 'local', ?, ?, ?, ?)")
        .run(name, JSON.stringify(labels), JSON.stringify(o.DriverOpts ?? {}), o.anonymous ? 1 : 0, new Date().toISOString().replace(/\.\d+Z$/, "Z"));
    } catch (e) {
      rmSync(final, { recursive: true, force: true });
      throw e;
    }
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
          k === "label" ? matchesLabels(v.Labels, vals) : vals.some((val) => {
            if (k === "dangling") return (this.users(v.Name).length === 0) === (val === "true" || val === "1");
            if (k === "name") return v.Name.includes(val);
            if (k === "driver") return v.Driver === val;
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
    this.activate(name);
  }

  /** A volume with driver options (`-o type=tmpfs …`) has them mounted on its _data while used (again after a reboot). */
  activate(name: string): void {
    const v = this.get(name);
    if (needsMount(v.Options)) mountVolume(name, v.Options, v.Mountpoint);
  }

  /** Forgets references held by containers that no longer exist (a crash between create and its rollback). */
  forgetUsersExcept(live: ReadonlySet<string>): void {
    for (const { container_id } of this.db.query<{ container_id: string }, []>("SELECT DISTINCT container_id FROM volume_refs").all()) {
      if (!live.has(container_id)) this.release(container_id, true);
    }
  }

  /** The container is gone: drop its references; with `removeAnonymous`, its anonymous volumes too. */
  release(containerId: string, removeAnonymous: boolean): void {
    const names = this.db.query<{ volume: string }, [string]>("SELECT volume FROM volume_refs WHERE container_id = ?").all(containerId).map((r) => r.volume);
    this.db.query("DELETE FROM volume_refs WHERE container_id = ?").run(containerId);
    if (!removeAnonymous) return;
    for (const n of names) {
      const v = this.find(n);
      if (v && this.isAnonymous(v) && this.users(n).length === 0) this.remove(n, false);
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
    // Detach the driver's mount first: removal must never delete through it.
    unmountVolume(join(this.dir, name));
    this.db.query("DELETE FROM volumes WHERE name = ?").run(name);
    rmSync(join(this.dir, name), { recursive: true, force: true });
    this.events.publish({ Type: "volume", Action: "destroy", Actor: { ID: name, Attributes: { driver: "local" } } });
  }

  prune(filters: Record<string, string[]> = {}, all = false): { VolumesDeleted: string[]; SpaceReclaimed: number } {
    const deleted: string[] = [];
    let reclaimed = 0;
    for (const v of this.list(filters)) {
      if (this.users(v.Name).length) continue;
      // Docker ≥ 23 prunes only anonymous volumes unless all=true.
      if (!all && !this.isAnonymous(v)) continue;
      // What a device-option volume holds lives elsewhere: removing it frees nothing.
      const size = needsMount(v.Options) ? 0 : dirBytes(v.Mountpoint);
      this.remove(v.Name, false);
      reclaimed += size;
      deleted.push(v.Name);
    }
    return { VolumesDeleted: deleted, SpaceReclaimed: reclaimed };
  }

  /**
   * At start, the rows and the directories made to agree both ways: a `.tmp-*`
   * is an unfinished create (ours, removed); a directory without a row is moved
   * aside, never deleted (the row may be what was lost); a row whose directory
   * is gone gets an empty one, so containers that name it still start.
   */
  repair(lost: LostFound): { movedAside: string[]; recreated: string[] } {
    const report = { movedAside: [] as string[], recreated: [] as string[] };
    mkdirSync(this.dir, { recursive: true });
    for (const name of readdirSync(this.dir)) {
      const path = join(this.dir, name);
      if (!name.startsWith(".tmp-") && this.find(name)) continue;
      try {
        unmountVolume(path);
      } catch {
        continue; // still mounted: leave it rather than touch data through the mount
      }
      if (name.startsWith(".tmp-")) rmSync(path, { recursive: true, force: true });
      else if (lost.moveAside("volumes", path)) report.movedAside.push(name);
    }
    for (const { name } of this.db.query<{ name: string }, []>("SELECT name FROM volumes").all()) {
      if (existsSync(this.mountpoint(name))) continue;
      mkdirSync(this.mountpoint(name), { recursive: true, mode: 0o755 });
      report.recreated.push(name);
    }
    return report;
  }
}
