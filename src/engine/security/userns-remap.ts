// daemon --userns-remap, as dockerd resolves it (daemon/daemon_unix.go
// parseRemappedRoot, setupRemappedRoot; internal/usergroup): a user (and
// group) whose subordinate ranges in /etc/subuid and /etc/subgid become the
// containers' id maps. "default" means a `ctremap` user (dockerd's
// `dockremap`), created with ranges when absent.
//
// Beyond dockerd: the first 65536 ids of the ranges are the map every
// remapped container shares (what dockerd gives `default`); the rest, in
// blocks of 65536, is the pool --userns=auto takes a distinct block from for
// each container (userns-ranges.ts). dockerd maps all of the user's ranges.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import type { IdRange } from "../../kernel/userns.ts";

export type { IdRange };

export const DEFAULT_REMAP_USER = "ctremap";
/** One container's worth of ids: uid 0..65535 inside, as every distribution's images expect. */
export const RANGE_SIZE = 65536;
/** ctremap gets the shared block plus this many for --userns=auto. */
const DEFAULT_AUTO_BLOCKS = 64;
const DEFAULT_RANGE_START = 100000;

export interface UsernsRemap {
  /** "user:group" as resolved (dockerd rewrites RemappedRoot the same way). */
  name: string;
  /** The map of every remapped container (containerID 0 = `rootUid` on the host). */
  uidMap: IdRange[];
  gidMap: IdRange[];
  /** Blocks of RANGE_SIZE after the shared one: the pool of --userns=auto. */
  autoUids: IdRange[];
  autoGids: IdRange[];
}

export interface SubId {
  start: number;
  count: number;
}

export interface IdFiles {
  passwd: string;
  group: string;
  subuid: string;
  subgid: string;
}

const HOST_FILES: IdFiles = { passwd: "/etc/passwd", group: "/etc/group", subuid: "/etc/subuid", subgid: "/etc/subgid" };

function rows(path: string): string[][] {
  try {
    return readFileSync(path, "utf8").split("\n").filter((l) => l && !l.startsWith("#")).map((l) => l.split(":"));
  } catch {
    return [];
  }
}

/** Lines of /etc/subuid (or subgid) for a user, named or by number (shadow's subid(5)). */
export function parseSubIds(text: string, name: string, id?: number): SubId[] {
  const out: SubId[] = [];
  for (const line of text.split("\n")) {
    const [who, start, count] = line.trim().split(":");
    if (!who || start === undefined || count === undefined || line.startsWith("#")) continue;
    if (who !== name && (id === undefined || who !== String(id))) continue;
    if (!/^\d+$/.test(start) || !/^\d+$/.test(count)) continue;
    out.push({ start: Number(start), count: Number(count) });
  }
  return out;
}

/** Every range in the file, whoever owns it (to find a free start for a new user). */
function allSubIds(text: string): SubId[] {
  return text
    .split("\n")
    .map((l) => l.trim().split(":"))
    .filter((f) => f.length >= 3 && /^\d+$/.test(f[1]!) && /^\d+$/.test(f[2]!))
    .map((f) => ({ start: Number(f[1]), count: Number(f[2]) }));
}

/** dockerd's findNextRangeStart: from 100000, past every range that would overlap. */
export function nextRangeStart(existing: SubId[], size: number): number {
  let start = DEFAULT_RANGE_START;
  for (const r of [...existing].sort((a, b) => a.start - b.start)) {
    if (start < r.start + r.count && r.start < start + size) start = r.start + r.count;
  }
  return start;
}

/** parseRemappedRoot: "default", a name or a uid, optionally ":group" (name or gid); dockerd's messages. */
export function parseRemapSpec(spec: string, files: IdFiles = HOST_FILES): { user: string; group: string } | "create-default" {
  const parts = spec.split(":");
  if (parts.length > 2) throw new Error(`Invalid user/group specification in --userns-remap: ${JSON.stringify(spec)}`);
  const passwd = rows(files.passwd);
  const groups = rows(files.group);
  let user: string;
  let group: string | undefined;
  const first = parts[0]!;
  if (/^-?\d+$/.test(first)) {
    const row = passwd.find((r) => r[2] === first);
    if (!row) throw new Error(`Uid ${first} has no entry in /etc/passwd: no matching entries in passwd file`);
    user = row[0]!;
    if (parts.length === 1) {
      const g = groups.find((r) => r[2] === first);
      if (!g) throw new Error(`Gid ${first} has no entry in /etc/group: no matching entries in group file`);
      group = g[0]!;
    }
  } else {
    const lookup = first === "default" ? DEFAULT_REMAP_USER : first;
    const row = passwd.find((r) => r[0] === lookup);
    if (!row) {
      if (first === "default") return "create-default";
      throw new Error(`Error during uid lookup for ${JSON.stringify(lookup)}: no matching entries in passwd file`);
    }
    user = row[0]!;
    if (parts.length === 1) {
      const g = groups.find((r) => r[0] === lookup);
      if (!g) throw new Error(`Error during gid lookup for ${JSON.stringify(lookup)}: no matching entries in group file`);
      group = g[0]!;
    }
  }
  if (parts.length === 2) {
    const second = parts[1]!;
    if (/^-?\d+$/.test(second)) {
      const g = groups.find((r) => r[2] === second);
      if (!g) throw new Error(`Gid ${second} has no entry in /etc/passwd: no matching entries in group file`);
      group = g[0]!;
    } else {
      if (!groups.some((r) => r[0] === second)) throw new Error(`Error during groupname lookup for ${JSON.stringify(second)}: no matching entries in group file`);
      group = second;
    }
  }
  return { user, group: group! };
}

/** Contiguous container ids over the ranges, in file order (moby/sys/user's IdentityMapping). */
function toMap(ids: SubId[]): IdRange[] {
  let next = 0;
  return ids.map((r) => {
    const m = { containerID: next, hostID: r.start, size: r.count };
    next += r.count;
    return m;
  });
}

/** The first `size` host ids of the ranges as a map from 0, and the rest cut in blocks of RANGE_SIZE. */
export function splitRanges(ids: SubId[]): { shared: IdRange[]; pool: IdRange[] } {
  const flat = toMap(ids);
  const shared: IdRange[] = [];
  const pool: IdRange[] = [];
  for (const m of flat) {
    let { hostID, size } = m;
    const inShared = Math.max(0, Math.min(size, RANGE_SIZE - shared.reduce((n, s) => n + s.size, 0)));
    if (inShared) shared.push({ containerID: m.containerID, hostID, size: inShared });
    hostID += inShared;
    size -= inShared;
    for (; size >= RANGE_SIZE; hostID += RANGE_SIZE, size -= RANGE_SIZE) pool.push({ containerID: 0, hostID, size: RANGE_SIZE });
  }
  return { shared, pool };
}

/** dockerd's AddNamespaceRangesUser for ctremap: a system user, then ranges with usermod -v/-w. */
function createDefaultUser(files: IdFiles): void {
  try {
    execFileSync("useradd", ["-r", "-s", "/bin/false", DEFAULT_REMAP_USER], { stdio: "pipe" });
  } catch (e) {
    throw new Error(`Error during ${JSON.stringify(DEFAULT_REMAP_USER)} user creation: failed to add user with error: ${(e as Error).message.trim()}`);
  }
  const size = RANGE_SIZE * (1 + DEFAULT_AUTO_BLOCKS);
  for (const [file, flag] of [[files.subuid, "-v"], [files.subgid, "-w"]] as const) {
    let text = "";
    try {
      text = readFileSync(file, "utf8");
    } catch {}
    if (parseSubIds(text, DEFAULT_REMAP_USER).length) continue;
    const start = nextRangeStart(allSubIds(text), size);
    execFileSync("usermod", [flag, `${start}-${start + size - 1}`, DEFAULT_REMAP_USER], { stdio: "pipe" });
  }
}

/** setupRemappedRoot: the maps of a daemon started with --userns-remap `spec`; null when remapping is off. */
export function setupRemap(spec: string | undefined, files: IdFiles = HOST_FILES): UsernsRemap | null {
  if (!spec) return null;
  let who = parseRemapSpec(spec, files);
  if (who === "create-default") {
    createDefaultUser(files);
    who = { user: DEFAULT_REMAP_USER, group: DEFAULT_REMAP_USER };
  }
  // A 1-to-1 map is no remap at all: dockerd logs that user namespaces are off.
  if (who.user === "root") return null;
  const uid = Number(rows(files.passwd).find((r) => r[0] === who.user)?.[2]);
  const gid = Number(rows(files.group).find((r) => r[0] === who.group)?.[2]);
  const text = (p: string) => {
    try {
      return readFileSync(p, "utf8");
    } catch {
      return "";
    }
  };
  const subuid = parseSubIds(text(files.subuid), who.user, uid);
  const subgid = parseSubIds(text(files.subgid), who.group, gid);
  if (!subuid.length) throw new Error(`error creating ID mappings: No subuid ranges found for user ${JSON.stringify(who.user)}`);
  if (!subgid.length) throw new Error(`error creating ID mappings: No subgid ranges found for group ${JSON.stringify(who.group)}`);
  const u = splitRanges(subuid);
  const g = splitRanges(subgid);
  return { name: `${who.user}:${who.group}`, uidMap: u.shared, gidMap: g.shared, autoUids: u.pool, autoGids: g.pool };
}

/** The host uid/gid of container root under a map. */
export function rootOf(map: readonly IdRange[]): number {
  const m = map.find((r) => r.containerID === 0);
  return m ? m.hostID : 0;
}
