// Ids between a user-namespaced container's files on disk and a tar: the
// container's root is uid/gid R on the host (the owner of its upper dir and
// so of its merged root), ids 0…65535 inside are R…R+65535 on disk. Tars —
// layers, `docker cp` — carry the ids as the container sees them, as
// dockerd's archiver does with its IdentityMapping. R below 65536 is no
// mapped root (subordinate ranges start above every container's ids; an image
// whose "/" belongs to uid 1000 is not remapped): no shift.
import type { TarEntry } from "./tar-writer.ts";

export const SHIFT_SIZE = 65536;

export interface IdBase {
  uid: number;
  gid: number;
}

/** Disk → container: R+n → n; ids outside the range stay. */
export function toContainerId(id: number, r: number): number {
  return r >= SHIFT_SIZE && id >= r && id < r + SHIFT_SIZE ? id - r : id;
}

/** Container → disk: n → R+n for n inside the range. */
export function toHostId(id: number, r: number): number {
  return r >= SHIFT_SIZE && id >= 0 && id < SHIFT_SIZE ? id + r : id;
}

/** A tar entry's ids as the container sees them. */
export function entryToContainer(base: IdBase): (e: TarEntry) => TarEntry {
  if (base.uid < SHIFT_SIZE && base.gid < SHIFT_SIZE) return (e) => e;
  return (e) => ({ ...e, uid: toContainerId(e.uid, base.uid), gid: toContainerId(e.gid, base.gid) });
}
