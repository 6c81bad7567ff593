import { join } from "node:path";
import { mkdirSync } from "node:fs";

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
