// The composition root's parts: builds every service of the engine from the
// daemon's config and registers their jobs. Routes see only the engine.
import type { Database } from "../store/db.ts";
import { cleanScratch, type Layout } from "../store/layout.ts";
import { driverFor } from "../store/graphdriver/registry.ts";
import { LayerStore } from "../store/layers/layer-store.ts";
import type { Engine } from "../engine/engine.ts";
import { EventBus, eventsJobs } from "../engine/events/bus.ts";
import { jobEvents } from "../engine/events/job-events.ts";
import { ContainerStore } from "../engine/containers/store.ts";
import { ContainerService } from "../engine/containers/service.ts";
import { ExecService } from "../engine/containers/exec.ts";
import { HealthMonitor } from "../engine/containers/health-monitor.ts";
import { containerJobs, containerQueryJobs, statsJobs } from "../engine/containers/jobs.ts";
import { jsonFileDriver } from "../engine/logs/json-file.ts";
import { containerFsJobs } from "../engine/containers/fs-jobs.ts";
import type { ImageInfo } from "../engine/containers/ports.ts";
import type { ExecDriver } from "../engine/execdriver/driver.ts";
import { driverRuntime } from "../engine/containers/runtime.ts";
import { securityDefaults } from "../engine/security/daemon-defaults.ts";
import { UsernsRanges } from "../engine/security/userns-ranges.ts";
import type { SecurityDefaults } from "../engine/security/policy.ts";
import { ContentStore } from "../store/content-store.ts";
import { ImageStore } from "../store/image-store.ts";
import { RegistryClient } from "../engine/distribution/registry-client.ts";
import { lookupCredentials } from "../engine/distribution/credentials.ts";
import { imageJobs } from "../engine/images/jobs.ts";
import { archiveJobs } from "../engine/images/archive-jobs.ts";
import { registryJobs } from "../engine/images/registry-jobs.ts";
import type { ImageRecord } from "../store/image-store.ts";
import { NetworkManager, realNetKernel } from "../engine/network/manager.ts";
import { nftAvailable, nftFirewallFor, tableForBridge, type Firewall } from "../engine/network/nft.ts";
import { chainNames, iptablesAvailable, iptablesFirewallFor } from "../engine/network/iptables.ts";
import { withForwardOpenings } from "../engine/network/forward-openings.ts";
import { managedNetworking } from "../engine/network/lifecycle.ts";
import { parsePoolFlag } from "../engine/network/subnets.ts";
import { networkJobs } from "../engine/network/jobs.ts";
import { diskUsageJobs } from "../engine/system/df.ts";
import { BuildCacheStore } from "../store/build-cache.ts";
import { buildCacheRecords, buildJobs } from "../engine/build/jobs.ts";
import { PullJob } from "../engine/images/jobs.ts";
import type { BuildMessage } from "../engine/build/output.ts";
import { join } from "node:path";
import type { DaemonConfig } from "./config.ts";
import { VolumeService } from "../engine/volumes/service.ts";
import { volumeJobs } from "../engine/volumes/jobs.ts";
import { log } from "../log.ts";
import { unmountAllUnder } from "../kernel/mount.ts";
import { lostFoundAt } from "../store/lost-found.ts";
import { repairContainerDisk } from "../engine/containers/disk-repair.ts";

export interface Services {
  security: SecurityDefaults;
  events: EventBus;
  layers: LayerStore;
  containers: ContainerService;
  execs: ExecService;
  volumes: VolumeService;
  driverName: string;
  shutdown(): Promise<void>;
}

function imageInfo(i: ImageRecord | null): ImageInfo | null {
  if (!i) return null;
  return { id: i.id, config: (JSON.parse(i.config) as { config?: ImageInfo["config"] }).config ?? {}, topLayer: i.topLayer };
}

/**
 * nftables (one table of ours) where `nft` exists, else iptables chains of ours; --firewall picks.
 * Either way with openings in other firewalls that would drop what our bridges forward (Docker's FORWARD DROP).
 */
function firewallFor(config: DaemonConfig): Firewall {
  const table = tableForBridge(config.bridge);
  const backend = config.firewall ?? (nftAvailable() || !iptablesAvailable() ? "nftables" : "iptables");
  log.info("firewall", { backend, table });
  if (backend === "iptables") return withForwardOpenings(iptablesFirewallFor(table), { table, isolationChain: chainNames(table).forward });
  return withForwardOpenings(nftFirewallFor(table), { table });
}

/** Builds every service from the daemon's config and registers their jobs. */
export async function buildServices(config: DaemonConfig, layout: Layout, db: Database, engine: Engine, execDriver: ExecDriver): Promise<Services> {
  const events = new EventBus();
  const security = securityDefaults(config.security);
  const driver = driverFor(config.storageDriver, layout.layers);
  const layers = new LayerStore(db, driver);
  // What the database does not account for is moved under lost+found, never deleted.
  const lost = lostFoundAt(layout.root);
  const report = await layers.repair(lost);
  if (report.removedRows.length || report.movedAside.length) log.warn("layer store repaired", { ...report, lostFound: join(layout.root, "lost+found") });
  const store = new ContainerStore(db);
  if (security.userns) security.autoRanges = new UsernsRanges(db);
  const disk = repairContainerDisk({ store, dir: layout.containers, rwIds: () => driver.rwIds(), rwPath: (id) => join(layout.layers, "rw", id), lost });
  if (disk.movedAside.length || disk.dead.length) log.warn("container store repaired", { ...disk, lostFound: join(layout.root, "lost+found") });
  const content = new ContentStore(layout.blobs, layout.tmp);
  // A crash mid-cp/export/copy-up leaves a temporary mount under tmp: detach it before cleaning.
  const stale = unmountAllUnder(layout.tmp);
  if (stale.length) log.info("detached stale temporary mounts", { count: stale.length });
  cleanScratch(layout.tmp);
  content.cleanTmp();
  const imageStore = new ImageStore(db);
  const registry = new RegistryClient({ insecureRegistries: config.insecureRegistries, registryMirrors: config.registryMirrors, credentials: (h) => lookupCredentials(h) });
  const images = imageJobs({
    registry,
    content,
    images: imageStore,
    layers,
    maxConcurrentDownloads: config.maxConcurrentDownloads,
    imageInUse: (id) => store.usingImage(id)[0]?.id ?? null,
    imageRunningIn: (id) => store.usingImage(id).find((c) => c.state.Running || c.state.Restarting)?.id ?? null,
  });
  const network = new NetworkManager({
    db,
    bip: config.bip,
    pools: config.defaultAddressPool ? [parsePoolFlag(config.defaultAddressPool)] : undefined,
    defaultBridge: config.bridge,
    upstreams: config.dns?.length ? config.dns : undefined,
    kernel: { ...realNetKernel, firewall: firewallFor(config) },
  });
  const imageSource = {
    find: (ref: string) => imageInfo(images.service.find(ref)),
    get: (id: string) => imageInfo(imageStore.get(id)),
  };
  const volumes = new VolumeService(db, layout.volumes, events);
  const vr = volumes.repair(lost);
  if (vr.movedAside.length || vr.recreated.length) log.warn("volume store repaired", { ...vr, lostFound: join(layout.root, "lost+found") });
  const containers = new ContainerService({
    store,
    images: imageSource,
    rootfs: {
      create: (id, top) => layers.createRw(id, top),
      mount: (id, o) => layers.rwMount(id, o),
      remove: (id) => layers.removeRw(id),
      setAside: (id) => layers.setAsideRw(id),
      size: (id) => layers.rwSize(id),
    },
    runtime: driverRuntime(execDriver, (ref) => containers.process(ref).pid, security, config.liveRestore),
    network: managedNetworking(network, { netnsDir: join(config.execRoot, "netns") }),
    events,
    logs: jsonFileDriver,
    volumes: {
      ensure: (name, anonymous, containerId, create) => {
        volumes.create({ Name: name, anonymous, ...create });
        volumes.use(name, containerId);
        return volumes.mountpoint(name);
      },
      release: (id, removeAnonymous) => volumes.release(id, removeAnonymous),
      activate: (name) => volumes.activate(name),
    },
    dir: layout.containers,
    tmpDir: layout.tmp,
    log: (m, f) => log.warn(m, f),
    security,
    liveRestore: config.liveRestore,
  });
  const execs = new ExecService(containers);
  const health = new HealthMonitor({
    probe: (id, argv, timeoutMs) => execs.probe(id, argv, timeoutMs),
    record: (id, startedAt, fold) => containers.recordHealth(id, startedAt, fold),
  });
  containers.observe({ running: (c) => health.watch(c), stopped: (id) => health.unwatch(id) });
  const buildCache = new BuildCacheStore(db);
  const builder = {
    layers,
    content,
    images: imageStore,
    tmpDir: layout.tmp,
    findImage: (ref: string) => images.service.find(ref),
    containers,
    cache: buildCache,
    cacheMountsDir: join(layout.root, "buildcache"),
    pull: async (ref: string, auth: import("../engine/distribution/credentials.ts").Credentials | null, onMessage: (m: BuildMessage) => void, platform?: string) => {
      let following: Promise<void> = Promise.resolve();
      const r = await engine.run(PullJob, { ref, auth, platform }, { onStart: (c) => (following = c.stdout.follow((m) => onMessage(m as BuildMessage))) });
      await following;
      return r.image;
    },
    removeImage: async (id: string) => {
      const size = imageStore.usage(id).uniqueSize;
      await images.service.remove(id);
      return size;
    },
  };
  engine.register(
    ...eventsJobs(events),
    ...volumeJobs(volumes),
    ...images.jobs,
    ...networkJobs(network, containers),
    ...diskUsageJobs(images.service, containers, volumes, () => layers.usage().size, () => buildCacheRecords(builder)),
    ...buildJobs(builder),
    ...containerJobs(containers, execs),
    ...containerQueryJobs(containers, execs, {
      driver: driver.name,
      imageMatches: (ref, c) => {
        const img = imageSource.find(ref);
        return img !== null && img.id === c.imageId;
      },
      sizes: async (c) => {
        const rw = await layers.rwSize(c.id).catch(() => 0);
        return { SizeRw: rw, SizeRootFs: (imageStore.get(c.imageId)?.size ?? 0) + rw };
      },
    }),
    ...statsJobs(containers),
    ...containerFsJobs({ containers, layers, content, images: imageStore, tmpDir: layout.tmp }),
    ...registryJobs(registry),
    ...archiveJobs({ service: images.service, content, layers, images: imageStore, tmpDir: layout.tmp }),
  );
  engine.onSucceeded(jobEvents((e) => events.publish(e)));
  // Taken back first, so networking keeps their endpoints, rules and resolvers.
  const adopted = containers.adopt();
  if (adopted) log.info("live restore: containers taken back", { count: adopted });
  await network.reconcile((id) => containers.isRunning(id)).catch((e) => log.warn("network reconcile failed", { error: String(e) }));
  await containers.reconcile();
  volumes.forgetUsersExcept(new Set(store.all().map((c) => c.id)));
  return {
    security,
    events,
    layers,
    containers,
    execs,
    volumes,
    driverName: driver.name,
    shutdown: async () => {
      await containers.shutdown();
      health.close();
      network.close();
    },
  };
}

