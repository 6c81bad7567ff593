import { join } from "node:path";
import { lstatSync, mkdirSync, readdirSync, rmSync, statSync } from "node:fs";

/** Where each kind of state lives under the daemon's root dir (see DESIGN.md). */
export interface Layout {
  root: string;
  db: string;
  lock: string;
  blobs: string;
  layers: string;
  containers: string;
  volumes: string;
  tmp: string;
  daemonLog: string;
}

export function layoutFor(root: string): Layout {
  return {
    root,
    db: join(root, "ctr.db"),
    lock: join(root, "ctr.lock"),
    blobs: join(root, "blobs", "sha256"),
    layers: join(root, "layers"),
    containers: join(root, "containers"),
    volumes: join(root, "volumes"),
    tmp: join(root, "tmp"),
    daemonLog: join(root, "daemon.log"),
  };
}

export function createLayout(l: Layout): void {
  for (const dir of [l.root, l.blobs, l.layers, l.containers, l.volumes, l.tmp]) {
    mkdirSync(dir, { recursive: true, mode: 0o711 });
  }
}

/** Scratch entries of cp, export, copy-up, commit/import/load, save and build; none is in use when the daemon starts. */
const SCRATCH = /^(cp|export|copyup|layer|load|save|build)-/;

/** At daemon start (after stale mounts are detached): removes what a crash left in tmp. */
export function cleanScratch(tmp: string): string[] {
  const dev = statSync(tmp).dev;
  // Never recurse into something still mounted there (another device): it would delete a container's files.
  const gone = readdirSync(tmp).filter((n) => SCRATCH.test(n) && lstatSync(join(tmp, n)).dev === dev);
  for (const n of gone) rmSync(join(tmp, n), { recursive: true, force: true });
  return gone;
}
