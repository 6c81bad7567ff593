// A throwaway store root (SQLite, content store, vfs layer store) wired like the daemon's.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openDatabase, type Database } from "../../../src/store/db.ts";
import { ContentStore } from "../../../src/store/content-store.ts";
import { ImageStore } from "../../../src/store/image-store.ts";
import { LayerStore } from "../../../src/store/layers/layer-store.ts";
import { newVfsDriver } from "../../../src/store/graphdriver/vfs.ts";
import { RegistryClient, type RegistryClientOptions } from "../../../src/engine/distribution/registry-client.ts";
import { Puller } from "../../../src/engine/images/pull.ts";
import { Pusher } from "../../../src/engine/images/push.ts";
import type { ImageDeps } from "../../../src/engine/images/deps.ts";

export interface StoreEnv {
  root: string;
  db: Database;
  content: ContentStore;
  images: ImageStore;
  layers: LayerStore;
  registry: RegistryClient;
  deps: ImageDeps;
  puller: Puller;
  pusher: Pusher;
  close(): void;
}

export function storeEnv(opts: Partial<RegistryClientOptions> = {}, extra: Partial<ImageDeps> = {}): StoreEnv {
  const root = mkdtempSync(join(tmpdir(), "ctr-images-"));
  const db = openDatabase(join(root, "ctr.db"));
  const content = new ContentStore(join(root, "blobs", "sha256"), join(root, "tmp"));
  const images = new ImageStore(db);
  const layers = new LayerStore(db, newVfsDriver(join(root, "layers")));
  const registry = new RegistryClient({ insecureRegistries: [], registryMirrors: [], credentials: () => null, retries: 3, backoffMs: 10, ...opts });
  const deps: ImageDeps = { registry, content, images, layers, platform: { os: "linux", architecture: "amd64" }, ...extra };
  return {
    root, db, content, images, layers, registry, deps,
    puller: new Puller(deps),
    pusher: new Pusher(deps),
    close() {
      db.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
}
