import { mkdirSync, writeFileSync } from "node:fs";
import { rename, writeFile } from "node:fs/promises";
import { join } from "node:path";

/** Paths of a container's own files under <root>/containers/<id>/. */
export function containerPaths(root: string, id: string) {
  const dir = join(root, id);
  return {
    dir,
    hostname: join(dir, "hostname"),
    hosts: join(dir, "hosts"),
    resolvConf: join(dir, "resolv.conf"),
    log: join(dir, `${id}-json.log`),
  };
}

/**
 * A container's hostname, hosts and resolv.conf, each written atomically, off
 * the event loop: the creates and renames (~1 ms of journaled metadata here)
 * run on the thread pool while the container's init boots; it needs them only
 * when it binds them, after the daemon's "go".
 */
export async function writeContainerFilesAsync(root: string, id: string, f: { hostname: string; hosts: string; resolvConf: string }, spares?: { take(id: string): boolean }): Promise<void> {
  const p = containerPaths(root, id);
  // A directory made ahead (spare-dirs.ts) has the files, empty: written in place, no new inodes.
  const fresh = spares?.take(id) ?? false;
  if (!fresh) mkdirSync(p.dir, { recursive: true, mode: 0o710 });
  // temp + rename: a crash never leaves half of one (a fresh one's half is rewritten at the next start).
  const atomic = async (path: string, data: string) => {
    if (fresh) return writeFile(path, data);
    const tmp = `${path}.tmp-${process.pid}`;
    await writeFile(tmp, data);
    await rename(tmp, path);
  };
  await Promise.all([atomic(p.hostname, f.hostname + "\n"), atomic(p.hosts, f.hosts), atomic(p.resolvConf, f.resolvConf)]);
}

/**
 * Rewrites /etc/hosts of a running container: the file is bind-mounted into
 * it, so it must keep its inode (truncate and write, never rename).
 */
export function rewriteHosts(root: string, id: string, hosts: string): void {
  writeFileSync(containerPaths(root, id).hosts, hosts);
}
