import { mkdirSync, renameSync, writeFileSync } from "node:fs";
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

/** Writes a file atomically (temp + rename): a crash never leaves half of it. */
export function writeAtomic(path: string, data: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

export function writeContainerFiles(
  root: string,
  id: string,
  f: { hostname: string; hosts: string; resolvConf: string },
): void {
  const p = containerPaths(root, id);
  mkdirSync(p.dir, { recursive: true, mode: 0o710 });
  writeAtomic(p.hostname, f.hostname + "\n");
  writeAtomic(p.hosts, f.hosts);
  writeAtomic(p.resolvConf, f.resolvConf);
}

/**
 * Rewrites /etc/hosts of a running container: the file is bind-mounted into
 * it, so it must keep its inode (truncate and write, never rename).
 */
export function rewriteHosts(root: string, id: string, hosts: string): void {
  writeFileSync(containerPaths(root, id).hosts, hosts);
}
