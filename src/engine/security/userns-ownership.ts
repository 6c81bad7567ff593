// What a container in a user namespace must own on the host, beyond its
// rootfs (idmapped by init): the files ctr writes for it (hostname, hosts,
// resolv.conf: container root edits them) and its volumes, whose contents
// are shifted into its ids once — dockerd gets the same by keeping volumes
// under a root owned by the remapped root. Bind mounts of host paths stay as
// they are (root in the container is not root on them: that is the point).
import { lchownSync, lstatSync, readdirSync } from "node:fs";
import { join } from "node:path";
import type { Container } from "../containers/types.ts";
import type { UsernsSpec } from "../execdriver/types.ts";
import { hostId } from "../execdriver/userns-stage.ts";
import type { SecurityDefaults } from "./policy.ts";

/** --userns=auto: the container's own block, taken right after its row is stored (undo removes the row). */
export function claimUserns(c: Container, d: SecurityDefaults | undefined, undo: () => void): void {
  if (c.hostConfig.UsernsMode !== "auto" || !d?.userns || !d.autoRanges) return;
  try {
    d.autoRanges.allocate(c.id, d.userns);
  } catch (e) {
    undo();
    throw e;
  }
}

/** Ids as the container sees them → host ids; ids the map lacks are left alone. */
function shift(id: number, map: UsernsSpec["uidMap"]): number {
  const m = map.find((r) => id >= r.containerID && id < r.containerID + r.size);
  return m ? m.hostID + (id - m.containerID) : id;
}

/**
 * Shifts a tree's ownership into the user namespace, unless its top already
 * belongs to the mapped root (done before, or made by the container).
 */
export function shiftTree(dir: string, u: UsernsSpec): void {
  const rootUid = hostId(u.uidMap, 0);
  let top;
  try {
    top = lstatSync(dir);
  } catch {
    return;
  }
  if (top.uid === rootUid) return;
  const walk = (p: string) => {
    const st = lstatSync(p);
    // Only ids inside the container's range (0..size) are shifted: a host id above stays as it is.
    lchownSync(p, shift(st.uid, u.uidMap), shift(st.gid, u.gidMap));
    if (st.isDirectory()) for (const n of readdirSync(p)) walk(join(p, n));
  };
  walk(dir);
}

/** Before a start: the container's own files and its volumes belong to its root. */
export function ownForUserns(c: Container, dir: string, u: UsernsSpec): void {
  const uid = hostId(u.uidMap, 0);
  const gid = hostId(u.gidMap, 0);
  for (const f of ["hostname", "hosts", "resolv.conf"]) {
    try {
      lchownSync(join(dir, f), uid, gid);
    } catch {}
  }
  for (const m of c.mounts) if (m.Type === "volume" && m.Source) shiftTree(m.Source, u);
}
