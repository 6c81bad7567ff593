import { readFileSync } from "node:fs";
import { createHash, randomBytes } from "node:crypto";
import { createLayout, layoutFor, type Layout } from "../store/layout.ts";
import { schemaVersion, type Database } from "../store/db.ts";
import { openStoreDatabase } from "../store/db-open.ts";
import { vacuumer } from "../store/vacuum.ts";
import { idleRelease } from "./idle-release.ts";
import { tryLock, type FileLock } from "../kernel/flock.ts";
import { Engine } from "../engine/engine.ts";
import { systemJobs, type SystemFacts } from "../engine/system/jobs.ts";
import { createApp } from "./app.ts";
import { buildServices, type Services } from "./services.ts";
import { networkRoutes } from "./routes/networks.ts";
import { containerFsRoutes } from "./routes/container-fs.ts";
import { registryRoutes } from "./routes/registry.ts";
import { USERNS_INIT_ENV } from "../engine/execdriver/protocol.ts";
import { ExecDriver } from "../engine/execdriver/driver.ts";
import { keeperCommand, smallInitLauncher } from "../engine/execdriver/init-bundle.ts";
import { KeeperClient } from "../engine/execdriver/keeper-client.ts";
import { selfCommand } from "../self.ts";
import { detectCgroupVersion, newCgroupManager } from "../kernel/cgroups/index.ts";
import { containerRoutes } from "./routes/containers.ts";
import { execRoutes } from "./routes/exec.ts";
import { eventsRoutes } from "./routes/events.ts";
import { volumeRoutes } from "./routes/volumes.ts";
import { imageRoutes } from "./routes/images.ts";
import { swarmRoutes } from "./routes/swarm.ts";
import { buildRoutes } from "./routes/build.ts";
import { httpFront } from "./http.ts";
import { listenOn, type Listener } from "./listen.ts";
import { socketGid } from "./socket-group.ts";
import type { DaemonConfig } from "./config.ts";
import { log } from "../log.ts";
import { securityOptions } from "../engine/security/daemon-defaults.ts";
import { clearMarker, previousDeath, stderrFile, writeMarker } from "./run-marker.ts";

export interface Daemon {
  config: DaemonConfig;
  layout: Layout;
  db: Database;
  engine: Engine;
  close(): Promise<void>;
}

/** Starts the daemon: lock the root, open the store, register jobs, serve the API. */
export async function startDaemon(config: DaemonConfig): Promise<Daemon> {
  // Tools the daemon runs (nft) live in sbin, which a user's PATH may lack.
  process.env.PATH = [process.env.PATH, "/usr/local/sbin", "/usr/sbin", "/sbin"].filter(Boolean).join(":");
  const layout = layoutFor(config.root);
  createLayout(layout);
  const lock = tryLock(layout.lock);
  if (!lock) {
    const pid = readFileSync(layout.lock, "utf8").trim();
    throw new Error(`another ctr daemon (pid ${pid}) is using the root ${config.root}; stop it first or pass --root`);
  }
  const previous = previousDeath(config.root);
  const servers: Listener[] = [];
  try {
    const opened: { checkMs?: number } = {};
    const db = openStoreDatabase(layout, opened);
    log.info("store opened", { db: layout.db, quickCheckMs: Math.round((opened.checkMs ?? 0) * 10) / 10 });
    const engine = new Engine();
    const base = smallInitLauncher(config.execRoot) ?? { initCommand: [...selfCommand(), "init"], initEnv: {} };
    // Under --userns-remap an init started ahead compiles its user-namespace helper while it waits (init.ts).
    const launcher = config.security.usernsRemap ? { ...base, initEnv: { ...base.initEnv, [USERNS_INIT_ENV]: "1" } } : base;
    // --live-restore: containers are the keeper's children, so they outlive us (keeper.ts).
    const keeper = config.liveRestore ? await KeeperClient.open({ ...launcher, keeperCommand: keeperCommand(config.execRoot), execRoot: config.execRoot, log: (m, f) => log.info(m, f) }) : undefined;
    const driver = new ExecDriver({ cgroups: newCgroupManager(undefined, config.cgroupParent), ...launcher, warmInit: process.env.CTR_WARM_INIT !== "0", nativeExec: process.env.CTR_NATIVE_EXEC !== "0", warmTag: createHash("sha256").update(config.execRoot).digest("hex").slice(0, 8), keeper });
    const services = await buildServices(config, layout, db, engine, driver);
    // After removals (any job that succeeded may have deleted rows) the file gives its free pages back.
    const vacuum = vacuumer(db, 1000, (pages) => log.info("database pages reclaimed", { pages }));
    engine.onSucceeded(() => vacuum.poke());
    const release = idleRelease();
    engine.onEnded(() => release.poke());
    const facts = systemFacts(config, db, services);
    engine.register(...systemJobs(facts, engine));
    const app = createApp({ engine }, [containerRoutes, containerFsRoutes, registryRoutes, execRoutes, eventsRoutes, volumeRoutes, imageRoutes, networkRoutes, buildRoutes, swarmRoutes]);
    const tls = config.tls ? { cert: readFileSync(config.tls.cert, "utf8"), key: readFileSync(config.tls.key, "utf8"), ca: config.tls.ca ? readFileSync(config.tls.ca, "utf8") : undefined, verify: config.tls.verify } : undefined;
    const gid = socketGid(config.group);
    const front = httpFront(app, { readIdleMs: readIdleMs() });
    for (const host of config.hosts) {
      servers.push(await listenOn(front, host, { gid, tls: host.startsWith("tcp://") ? tls : undefined }));
      log.info("API listen", { host });
    }
    if (previous) log.warn(previous);
    writeMarker(config.root, { pid: process.pid, startedAt: new Date().toISOString(), log: stderrFile() });
    return {
      config,
      layout,
      db,
      engine,
      close: async () => {
        await services.shutdown();
        await driver.close();
        vacuum.stop();
        release.stop();
        await shutdown(servers, db, lock, config.root);
      },
    };
  } catch (e) {
    await Promise.all(servers.map((s) => s.close()));
    lock.release();
    throw e;
  }
}

async function shutdown(servers: Listener[], db: Database, lock: FileLock, root: string): Promise<void> {
  await Promise.all(servers.map((s) => s.close()));
  db.close();
  clearMarker(root); // before the lock goes: the next daemon must not read ours
  lock.release();
}

function systemFacts(config: DaemonConfig, db: Database, services: Services): SystemFacts {
  return {
    id: daemonId(db),
    rootDir: config.root,
    execRoot: config.execRoot,
    driver: services.driverName,
    driverStatus: [],
    cgroupVersion: String(detectCgroupVersion()) as "1" | "2",
    insecureRegistries: config.insecureRegistries,
    mirrors: config.registryMirrors,
    counts: () => {
      const rows = db
        .query<{ status: string; n: number }, []>(
          "SELECT json_extract(state, '$.Status') AS status, count(*) AS n FROM containers GROUP BY status",
        )
        .all();
      const by = (s: string) => rows.find((r) => r.status === s)?.n ?? 0;
      const containers = rows.reduce((a, r) => a + r.n, 0);
      const images = db.query<{ n: number }, []>("SELECT count(*) AS n FROM images").get()?.n ?? 0;
      return { containers, running: by("running"), paused: by("paused"), stopped: containers - by("running") - by("paused"), images };
    },
    schemaVersion: () => schemaVersion(db),
    securityOptions: securityOptions(services.security, String(detectCgroupVersion()) as "1" | "2"),
    liveRestore: config.liveRestore,
  };
}

/** A stable daemon ID kept in the meta table, shaped like dockerd's. */
function daemonId(db: Database): string {
  const row = db.query<{ value: string }, []>("SELECT value FROM meta WHERE key = 'daemon_id'").get();
  if (row) return row.value;
  const id = randomBytes(24).toString("base64url").toUpperCase().replace(/[^A-Z0-9]/g, "A").slice(0, 32).match(/.{4}/g)!.join(":");
  db.query("INSERT INTO meta (key, value) VALUES ('daemon_id', ?)").run(id);
  return id;
}

/** CTR_READ_TIMEOUT_MS shortens how long a silent request body is waited for (tests; slow links may lengthen it). */
function readIdleMs(): number | undefined {
  const v = Number(process.env.CTR_READ_TIMEOUT_MS);
  return Number.isFinite(v) && v > 0 ? v : undefined;
}
