// --userns=auto (beyond Docker): each container holds a block of the daemon's
// subordinate ids of its own, recorded in SQLite with the container (so it
// survives a daemon restart) and freed when the container row goes (ON DELETE
// CASCADE). Blocks never overlap the map shared by the other remapped
// containers (userns-remap.ts keeps the first block for that).
import type { Database } from "../../store/db.ts";
import { ConflictError } from "../errors.ts";
import { RANGE_SIZE, type IdRange, type UsernsRemap } from "./userns-remap.ts";

export interface AutoMap {
  uidMap: IdRange[];
  gidMap: IdRange[];
}

export class UsernsRanges {
  constructor(private readonly db: Database) {}

  /** Takes the first free block for `containerId` (its row must exist). Synchronous: no other create interleaves. */
  allocate(containerId: string, remap: UsernsRemap): AutoMap {
    const used = new Set(this.db.query<{ host_uid: number }, []>("SELECT host_uid FROM userns_ranges").all().map((r) => r.host_uid));
    const usedG = new Set(this.db.query<{ host_gid: number }, []>("SELECT host_gid FROM userns_ranges").all().map((r) => r.host_gid));
    const k = remap.autoUids.findIndex((u, i) => !used.has(u.hostID) && remap.autoGids[i] && !usedG.has(remap.autoGids[i]!.hostID));
    if (k < 0) {
      throw new ConflictError(
        `no free range for --userns=auto: the subordinate ids of ${remap.name} hold ${remap.autoUids.length} block(s) of ${RANGE_SIZE} beyond the shared one, all in use`,
      );
    }
    const u = remap.autoUids[k]!;
    const g = remap.autoGids[k]!;
    this.db.query("INSERT INTO userns_ranges (container_id, host_uid, host_gid, size) VALUES (?, ?, ?, ?)").run(containerId, u.hostID, g.hostID, RANGE_SIZE);
    return this.get(containerId)!;
  }

  get(containerId: string): AutoMap | null {
    const r = this.db.query<{ host_uid: number; host_gid: number; size: number }, [string]>("SELECT host_uid, host_gid, size FROM userns_ranges WHERE container_id = ?").get(containerId);
    if (!r) return null;
    return { uidMap: [{ containerID: 0, hostID: r.host_uid, size: r.size }], gidMap: [{ containerID: 0, hostID: r.host_gid, size: r.size }] };
  }
}
