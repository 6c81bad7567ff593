// Who may use the API: access to the unix socket is root on the host (it can
// start a --privileged container with / bind-mounted), so the socket is
// 0660 root:<group>, the group being -G/--group, or `ctr` where that group
// exists — dockerd's `docker` group convention. A missing default group
// leaves the socket root-only; a missing group asked for by name is an error.
import { readFileSync } from "node:fs";

export const DEFAULT_SOCKET_GROUP = "ctr";

/** The gid of `group` (a name in /etc/group, or a number), or null when there is none. */
export function lookupGroup(group: string, groupFile = "/etc/group"): number | null {
  if (/^\d+$/.test(group)) return Number(group);
  let text = "";
  try {
    text = readFileSync(groupFile, "utf8");
  } catch {
    return null;
  }
  for (const line of text.split("\n")) {
    const [name, , gid] = line.split(":");
    if (name === group && gid !== undefined && /^\d+$/.test(gid)) return Number(gid);
  }
  return null;
}

/** The gid the socket gets: null = stay root's. Throws when an explicitly named group does not exist. */
export function socketGid(group: string | undefined, groupFile?: string): number | null {
  const gid = lookupGroup(group ?? DEFAULT_SOCKET_GROUP, groupFile);
  if (gid === null && group !== undefined && group !== DEFAULT_SOCKET_GROUP) throw new Error(`can't create unix socket: group ${JSON.stringify(group)} not found`);
  return gid;
}
