// The composition root's parts: builds every service of the engine from the
// daemon's config and registers their jobs. Routes see only the engine.
import type { Database } from "../store/db.ts";
import type { Layout } from "../store/layout.ts";
import { driverFor } from "../store/graphdriver/registry.ts";
import { LayerStore } from "../store/layers/layer-store.ts";
import type { Engine } from "../engine/engine.ts";
import { EventBus, eventsJobs } from "../engine/events/bus.ts";
import { ContainerStore } from "../engine/containers/store.ts";
import { ContainerService } from "../engine/containers/service.ts";
import { ExecService } from "../engine/containers/exec.ts";
import { containerJobs, containerQueryJobs, statsJobs } from "../engine/containers/jobs.ts";
import { jsonFileDriver } from "../engine/logs/json-file.ts";
import { isolatedNetworking } from "../engine/containers/hostfiles.ts";
import type { ImageSource, Networking, Runtime } from "../engine/containers/ports.ts";
import type { DaemonConfig } from "./config.ts";
import { VolumeService } from "../engine/volumes/service.ts";
import { volumeJobs } from "../engine/volumes/jobs.ts";
import { log } from "../log.ts";

export interface Services {
  events: EventBus;
  layers: LayerStore;
  containers: ContainerService;
  execs: ExecService;
  volumes: VolumeService;
  driverName: string;
  shutdown(): Promise<void>;
}

export interface ServiceParts {
  images: ImageSource;
  runtime: Runtime;
  network?: Networking;
}

export async function buildServices(config: DaemonConfig, layout: Layout, db: Database, engine: Engine, parts: ServiceParts): Promise<Services> {
  const events = new EventBus();
  const driver = driverFor(config.storageDriver, layout.layers);
  const layers = new LayerStore(db, driver);
  const report = await layers.repair();
  if (report.removedRows.length || report.removedDirs.length) log.info("layer store repaired", { ...report });
  const store = new ContainerStore(db);
  const volumes = new VolumeService(db, layout.volumes, events);
  volumes.repair();
  const containers = new ContainerService({
    store,
    images: parts.images,
    rootfs: {
      create: (id, top) => layers.createRw(id, top),
      mount: (id) => layers.rwMount(id),
      remove: (id) => layers.removeRw(id),
    },
    runtime: parts.runtime,
    network: parts.network ?? isolatedNetworking,
    events,
    logs: jsonFileDriver,
    volumes: {
      ensure: (name, anonymous, containerId) => {
        volumes.create({ Name: name, anonymous });
        volumes.use(name, containerId);
        return volumes.mountpoint(name);
      },
      release: (id, removeAnonymous) => volumes.release(id, removeAnonymous),
    },
    dir: layout.containers,
    log: (m, f) => log.warn(m, f),
  });
  const execs = new ExecService(containers);
  engine.register(
    ...eventsJobs(events),
    ...volumeJobs(volumes),
    ...containerJobs(containers, execs),
    ...containerQueryJobs(containers, execs, {
      driver: driver.name,
      imageMatches: (ref, c) => {
        const img = parts.images.find(ref);
        return img !== null && img.id === c.imageId;
      },
    }),
    ...statsJobs(containers),
  );
  await containers.reconcile();
  return {
    events,
    layers,
    containers,
    execs,
    volumes,
    driverName: driver.name,
    shutdown: () => containers.shutdown(),
  };
}

