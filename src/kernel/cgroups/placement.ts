// Where a container's cgroup sits under a hierarchy, by dockerd's and runc's
// cgroupfs rules (moby daemon/oci_linux.go: <CgroupParent>/<id>; runc
// libcontainer/cgroups/fs/paths.go subsysPath): an absolute parent is a path
// from the hierarchy's root; a relative one hangs below the cgroup the daemon
// itself is in (per controller on v1, as /proc/self/cgroup says). `..` never
// climbs above the root (runc's utils.CleanPath).
import { readFileSync } from "node:fs";
import { posix } from "node:path";

/** runc's CleanPath: lexically cleaned; a relative path stays relative but cannot escape. */
export function cleanParent(p: string): string {
  if (p.startsWith("/")) return posix.normalize(p).replace(/\/+$/, "") || "/";
  return posix.relative("/", posix.normalize("/" + p));
}

/** /proc/<pid>/cgroup as controller → path; v2's unified line under "". Named hierarchies (name=systemd) kept by name. */
export function parseProcCgroup(text: string): Map<string, string> {
  const own = new Map<string, string>();
  for (const line of text.split("\n")) {
    const m = /^\d+:([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    for (const c of m[1]!.split(",")) own.set(c, m[2]!);
  }
  return own;
}

/**
 * The container's directory relative to the hierarchy root (no leading slash):
 * `<parent>/<id>`, the parent made absolute against `own` (the daemon's cgroup
 * in that hierarchy) when relative. `hierarchy` is the mount's name
 * (cpu,cpuacct joins two controllers; v2 is "").
 */
export function containerDir(parent: string, id: string, hierarchy: string, own: Map<string, string>): string {
  const p = cleanParent(parent);
  const base = p.startsWith("/") ? p : posix.join(own.get(hierarchy.split(",")[0]!) ?? own.get(hierarchy) ?? "/", p);
  return posix.join(base, id).replace(/^\/+/, "");
}

/** Which containers have a CgroupParent of their own (the rest sit below the daemon's `parent`). */
export class Placements {
  private readonly placed = new Map<string, string>();
  constructor(
    private readonly parent: string,
    /** The daemon's own cgroups (hierarchy → path); read from /proc/self/cgroup when first needed. */
    private own?: Map<string, string>,
  ) {}

  set(id: string, parent?: string): void {
    if (parent) this.placed.set(id, parent);
    else this.placed.delete(id);
  }

  /** The container's directory relative to the root of `hierarchy` ("" on v2). */
  rel(id: string, hierarchy: string): string {
    const p = this.placed.get(id);
    if (p === undefined) return posix.join(this.parent, id);
    this.own ??= parseProcCgroup(readFileSync("/proc/self/cgroup", "utf8"));
    return containerDir(p, id, hierarchy, this.own);
  }
}

/** What both managers share: their root, the daemon's parent, fake trees (tests) and the placements. */
export abstract class PlacedCgroups {
  protected readonly at: Placements;
  constructor(
    protected readonly root = "/sys/fs/cgroup",
    protected readonly parent = "ctr",
    /** Fake trees (tests): files are plain files, removal deletes them. */
    protected readonly fake = false,
    /** The daemon's own cgroups (hierarchy → path): where a relative CgroupParent hangs. */
    own?: Map<string, string>,
  ) {
    this.at = new Placements(parent, own);
  }

  place(id: string, parent?: string): void {
    this.at.set(id, parent);
  }
}
