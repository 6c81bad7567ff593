// The user a container process runs as, resolved in the container's own
// /etc/passwd and /etc/group (after pivot_root), as Docker does.
import { readFileSync } from "node:fs";
import { DEFAULT_PATH } from "../default-path.ts";

export interface Identity {
  uid: number;
  gid: number;
  groups: number[];
  home: string;
}

function read(path: string): string | null {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return null;
  }
}

function table(text: string | null): string[][] {
  return (text ?? "").split("\n").filter((l) => l && !l.startsWith("#")).map((l) => l.split(":"));
}

/**
 * `additional` is HostConfig.GroupAdd: numbers as given, names looked up in
 * the container's group file (runc's GetAdditionalGroups).
 */
export function resolveUser(spec: string, passwd = "/etc/passwd", group = "/etc/group", additional: readonly string[] = []): Identity {
  return resolveUserIn(spec, read(passwd), read(group), additional);
}

/** resolveUser over the files' texts (null = missing), for a caller that reads them itself. */
export function resolveUserIn(spec: string, passwd: string | null, group: string | null, additional: readonly string[] = []): Identity {
  const [u = "", g] = spec.split(":");
  const users = table(passwd);
  const groups = table(group);
  let uid = 0;
  let gid = 0;
  let home = "/";
  let name = "root";
  if (u !== "") {
    const row = /^\d+$/.test(u) ? users.find((r) => r[2] === u) : users.find((r) => r[0] === u);
    if (row) {
      uid = Number(row[2]);
      gid = Number(row[3]);
      home = row[5] || "/";
      name = row[0]!;
    } else if (/^\d+$/.test(u)) {
      uid = Number(u);
      name = "";
    } else throw new Error(`unable to find user ${u}: no matching entries in passwd file`);
  } else {
    const row = users.find((r) => r[2] === "0");
    if (row) home = row[5] || "/";
  }
  if (g !== undefined && g !== "") {
    if (/^\d+$/.test(g)) gid = Number(g);
    else {
      const row = groups.find((r) => r[0] === g);
      if (!row) throw new Error(`unable to find group ${g}: no matching entries in group file`);
      gid = Number(row[2]);
    }
  }
  const extra = name ? groups.filter((r) => (r[3] ?? "").split(",").includes(name)).map((r) => Number(r[2])) : [];
  const added = additional.map((a) => {
    if (/^\d+$/.test(a)) return Number(a);
    const row = groups.find((r) => r[0] === a);
    if (!row) throw new Error(`Unable to find group ${a}: no matching entries in group file`);
    return Number(row[2]);
  });
  return { uid, gid, groups: [...new Set([gid, ...extra, ...added])], home };
}

/** PATH lookup inside the container for a bare command name. */
export function lookPath(cmd: string, env: string[], exists: (p: string) => boolean): string | null {
  if (cmd.includes("/")) return cmd;
  const path = env.find((e) => e.startsWith("PATH="))?.slice(5) ?? DEFAULT_PATH;
  for (const dir of path.split(":")) {
    const p = `${dir || "."}/${cmd}`;
    if (exists(p)) return p;
  }
  return null;
}
