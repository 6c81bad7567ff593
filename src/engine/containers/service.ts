import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import type { Readable } from "node:stream";
import { ConflictError, EngineError, InvalidParameterError, NotFoundError, NotModifiedError } from "../errors.ts";
import { mergeConfig, splitCreateBody, validateHostConfig } from "./config.ts";
import { containerPaths, rewriteHosts, writeContainerFilesAsync } from "./files.ts";
import { SpareContainerDirs } from "./spare-dirs.ts";
import { generateName, VALID_NAME } from "./names.ts";
import type { ExitInfo, ImageSource, LogDriver, LogSink, Networking, ProcessHandle, RootfsProvider, Runtime } from "./ports.ts";
import { parseSignal } from "./signals.ts";
import { resolveMounts, type MountPoint, type VolumeProvider } from "./mounts.ts";
import { copyUpVolumes } from "./volume-copyup.ts";
import { leftoverExit, leftoverVerdict } from "./reconcile.ts";
import { applyUpdate, type UpdateBody } from "./update.ts";
import { checkIpcMode, mountShareableShm, shmSpec, unmountShareableShm } from "./ipc.ts";
import { probeArgs, startingHealth, stoppedHealth, type Health } from "./health.ts";
import { configuredEndpoints, initialEndpoints, type EndpointsConfig } from "./endpoints.ts";
import { linkContext, storedLinks, withLinkEnv } from "./links.ts";
import { resolveCaps } from "./spec.ts";
import { defaultSecurity, validateSecurity, type SecurityDefaults } from "../security/policy.ts";
import { claimUserns } from "../security/userns-ownership.ts";
import { StdioHub, type StreamId, type Subscriber } from "./stdio.ts";
import { ContainerStore, nameInUse } from "./store.ts";
import { initialState, nowRfc3339, type Container, type ContainerConfig, type ContainerState } from "./types.ts";
import { Waits, type WaitCondition, type WaitResult } from "./waits.ts";
import { setAside, Tidier } from "./tidy.ts";

export interface EventSink {
  publish(e: { Type: string; Action: string; Actor: { ID: string; Attributes: Record<string, string> } }): void;
}

export interface ContainerDeps {
  store: ContainerStore;
  images: ImageSource;
  rootfs: RootfsProvider;
  runtime: Runtime;
  network: Networking;
  events: EventSink;
  logs: LogDriver;
  volumes?: VolumeProvider & { release(containerId: string, removeAnonymous: boolean): void; activate?(name: string): void };
  /** <root>/containers */
  dir: string;
  /** Scratch space on the store's filesystem (volume copy-up mounts); default `dir`. */
  tmpDir?: string;
  /** Pulls a missing image for `run`; absent in tests. */
  log?: (msg: string, fields?: Record<string, unknown>) => void;
  /** The daemon's security defaults (seccomp profile, no_new_privs, default ulimits). */
  security?: SecurityDefaults;
  /** --live-restore: containers outlive the daemon (shutdown leaves them running; start takes them back). */
  liveRestore?: boolean;
}

/** A process of ours that is running right now. */
interface Live {
  proc: ProcessHandle;
  hub: StdioHub;
  /** Resolves when stdout and stderr are drained. */
  drained: Promise<void>;
  /** The process has ended; its exit may not be recorded yet. */
  exited: boolean;
}

/** Told when a container's process runs (started, unpaused) and when it stops running (exit, pause). */
export interface LifecycleObserver {
  running(c: Container): void;
  stopped(id: string): void;
}

const RESTART_BACKOFF_START_MS = 100;
const RESTART_BACKOFF_MAX_MS = 60_000;

/**
 * The container lifecycle: Docker's state machine over the store, the exec
 * driver and networking. Knows nothing of HTTP; routes call it through jobs.
 */
export class ContainerService {
  private readonly live = new Map<string, Live>();
  /** Hubs for attaches that arrived before start. */
  private readonly pendingHubs = new Map<string, StdioHub>();
  private readonly waits = new Waits();
  /** Containers a user stopped: restart policies leave these alone. */
  /** Set by shutdown(): containers stopped because the daemon stops are not restarted now (they are at the next boot). */
  private shuttingDown = false;
  private readonly restartTimers = new Map<string, Timer>();
  private readonly starting = new Map<string, Promise<void>>();
  /** Exits being recorded (endpoints released, state saved): a stop answers after, and a start waits for it. */
  private readonly exiting = new Map<string, Promise<void>>();
  private readonly observers: LifecycleObserver[] = [];
  /** Cgroups, rw layers and directories of ended or removed containers, after the answer (tidy.ts). */
  private readonly tidier: Tidier;

  constructor(readonly d: ContainerDeps) {
    this.tidier = new Tidier(d.log);
    this.spares = new SpareContainerDirs(d.dir);
  }
  /** Container directories made ahead (spare-dirs.ts). */
  private readonly spares: SpareContainerDirs;

  observe(o: LifecycleObserver): void {
    this.observers.push(o);
  }

  get(ref: string): Container {
    return this.d.store.get(ref);
  }

  private find(ref: string): Container | null {
    try {
      return this.get(ref);
    } catch {
      return null;
    }
  }

  /** The container with its links' variables, as its processes see it (start, exec); refuses a link to a stopped container. */
  linked(c: Container): Container {
    return withLinkEnv(c, linkContext(c, (n) => this.get(n)));
  }

  /**
   * `DELETE /containers/<parent>/<alias>?link=1` (`docker rm --link`): drops
   * the link from the parent and its hosts line; dockerd's answers for a name
   * that is no link (404) and for a container's own name (500).
   */
  removeLink(ref: string): void {
    const full = `/${ref.replace(/^\/+/, "")}`;
    const cut = full.lastIndexOf("/");
    if (cut === 0) {
      this.get(ref);
      throw new EngineError("Conflict, cannot remove the default link name of the container");
    }
    const parent = this.find(full.slice(1, cut));
    const link = parent?.hostConfig.Links?.find((l) => l.endsWith(`:${full}`));
    if (!parent || !link) throw new NotFoundError(`No such container: ${ref}`);
    parent.hostConfig.Links = parent.hostConfig.Links!.filter((l) => l !== link);
    this.d.store.save(parent);
    if (parent.state.Running && this.d.network.needsNetns(parent)) rewriteHosts(this.d.dir, parent.id, this.files(parent).hosts);
  }

  /** /etc/hosts and resolv.conf, with a hosts line per link whose container runs. */
  private files(c: Container) {
    return this.d.network.files(c, linkContext(c, (n) => this.get(n), false).hosts);
  }

  // ---- create ----------------------------------------------------------

  async create(name: string | undefined, body: Record<string, unknown>): Promise<{ Id: string; Warnings: string[] }> {
    const { config, hostConfig, networking } = splitCreateBody(body);
    if (name !== undefined && name !== "" && !VALID_NAME.test(name)) {
      throw new InvalidParameterError(`Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
    }
    const image = this.d.images.find(config.Image!);
    if (!image) throw new NotFoundError(`No such image: ${config.Image}`);
    const hc = validateHostConfig(hostConfig);
    // dockerd looks the IPC and PID donors up at create (400, not 404).
    for (const mode of [hc.IpcMode, hc.PidMode]) {
      const ref = mode?.startsWith("container:") ? mode.slice("container:".length) : "";
      if (ref && !this.d.store.find(ref)) throw new InvalidParameterError(`No such container: ${ref}`);
    }
    validateSecurity(hc, resolveCaps(hc.CapAdd ?? [], hc.CapDrop ?? [], !!hc.Privileged), this.d.security ?? defaultSecurity());
    const id = randomBytes(32).toString("hex");
    const wanted = name?.replace(/^\//, "");
    if (wanted) {
      const other = this.d.store.byName(wanted);
      if (other) throw nameInUse(wanted, other.id);
    }
    const c: Container = {
      id,
      name: wanted || generateName((n) => this.d.store.byName(n) !== null),
      imageId: image.id,
      imageRef: config.Image!,
      config: mergeConfig(config, image, config.Image!),
      hostConfig: hc,
      networking: { EndpointsConfig: initialEndpoints(hc.NetworkMode!, (networking as Container["networking"]).EndpointsConfig) },
      networkSettings: {},
      mounts: [],
      state: initialState(),
      restartCount: 0,
      manuallyStopped: false,
      created: nowRfc3339(),
    };
    if (!c.config.Hostname) c.config.Hostname = id.slice(0, 12);
    c.hostConfig.Links = storedLinks(c, (n) => this.find(n));
    if (!c.config.Cmd?.length && !c.config.Entrypoint?.length) {
      throw new InvalidParameterError("no command specified");
    }
    try {
      let copyUp: MountPoint[] = [];
      if (this.d.volumes) {
        const r = resolveMounts(c, this.d.volumes, (ref) => this.get(ref).mounts);
        c.mounts = r.points;
        copyUp = r.copyUp;
      }
      await this.d.rootfs.create(id, image.topLayer);
      try {
        if (copyUp.length) copyUpVolumes(copyUp, this.d.rootfs.mount(id), this.d.tmpDir ?? this.d.dir);
        this.d.store.insert(c);
        claimUserns(c, this.d.security, () => this.d.store.delete(id));
      } catch (e) {
        await this.d.rootfs.remove(id);
        throw e;
      }
    } catch (e) {
      // Volumes taken before the failure must not stay "in use" by a container that never was.
      this.d.volumes?.release(id, true);
      throw e;
    }
    this.event(c, "create");
    return { Id: id, Warnings: [] };
  }

  // ---- start / exit ----------------------------------------------------

  async start(ref: string): Promise<void> {
    // A process that has ended but whose exit is still being recorded is not running for
    // dockerd: Compose's `run` starts a one-off, attaches, and starts it again.
    const id = this.get(ref).id;
    if (this.live.get(id)?.exited || this.exiting.has(id)) await this.settled(id);
    const c = this.get(ref);
    if (c.state.Running) {
      if (c.state.Paused) throw new ConflictError(`cannot start a paused container, try unpause instead`);
      throw new NotModifiedError("container already started");
    }
    this.setManuallyStopped(c, false);
    this.clearRestartTimer(c.id);
    // dockerd's containerStart(resetRestartManager): a start that is not the policy's counts restarts from 0.
    c.restartCount = 0;
    await this.run(c);
  }

  private async run(c: Container): Promise<void> {
    const inFlight = this.starting.get(c.id);
    if (inFlight) return inFlight;
    const p = this.launch(c).finally(() => this.starting.delete(c.id));
    this.starting.set(c.id, p);
    return p;
  }

  /**
   * dockerd's initializeNetworking/getIpcContainer: a `container:<id>` network joiner
   * shows its donor's hostname and domain (a pod's or Nomad's pause container); an
   * ipc donor must have been made shareable.
   */
  private takeDonors(c: Container): Container | undefined {
    const h = c.hostConfig;
    checkIpcMode(h.IpcMode);
    if (h.NetworkMode?.startsWith("container:")) {
      const donor = this.get(h.NetworkMode.slice("container:".length));
      c.config.Hostname = donor.config.Hostname;
      c.config.Domainname = donor.config.Domainname;
    }
    if (h.IpcMode?.startsWith("container:")) {
      const donor = this.get(h.IpcMode.slice("container:".length));
      if (donor.hostConfig.IpcMode !== "shareable" && donor.hostConfig.IpcMode !== "host") {
        throw new EngineError(`can't join IPC of container ${donor.id}: non-shareable IPC (hint: use IpcMode:shareable for the donor container)`);
      }
      return donor;
    }
    return undefined;
  }

  private async launch(c: Container): Promise<void> {
    // The cgroup of the previous run must be gone before this one takes its name.
    await this.tidier.done(c.id);
    const image = this.d.images.get(c.imageId);
    if (!image) throw new NotFoundError(`No such image: ${c.imageRef}`);
    const paths = containerPaths(this.d.dir, c.id);
    // Volumes with driver options are mounted while used (again after a reboot).
    for (const p of c.mounts) if (p.Type === "volume" && p.Name) this.d.volumes?.activate?.(p.Name);
    const ipcDonor = this.takeDonors(c);
    // dockerd checks the links first: a linked container must be running.
    const processView = this.linked(c);
    const files = this.files(c);
    // Written while the init boots; awaited before its command runs (onNetns comes before that).
    const written = writeContainerFilesAsync(this.d.dir, c.id, { hostname: c.config.Hostname, ...files }, this.spares);
    written.catch(() => {}); // a start that fails before the await must not leave it unobserved
    const hub = this.pendingHubs.get(c.id) ?? new StdioHub(c.config.StdinOnce);
    this.pendingHubs.delete(c.id);
    let settings: Record<string, unknown> = {};
    let proc: ProcessHandle;
    try {
      mountShareableShm(this.d.dir, c);
      proc = await this.d.runtime.start(processView, {
        // An --rm container's layer is never exported or committed after it: its mount targets
        // need not be made in it (export and cp of a kept container still show them, as dockerd's).
        rootfs: this.d.rootfs.mount(c.id, { volatile: !!c.hostConfig.AutoRemove, mountpoints: !!c.hostConfig.AutoRemove }),
        dir: paths.dir,
        image,
        shm: shmSpec(c, this.d.dir, ipcDonor),
        log: { path: paths.log, config: c.hostConfig.LogConfig?.Config ?? {} },
        onNetns: async (pid) => {
          await written;
          if (this.d.network.needsNetns(c)) settings = await this.d.network.connect(c, pid);
        },
      });
    } catch (e) {
      // dockerd records a failed start as an exit (127 not found, 126 not executable)
      // and wakes waiters, so `docker run` ends instead of hanging.
      await this.d.network.disconnect(c).catch(() => {});
      unmountShareableShm(this.d.dir, c.id);
      const code = typeof (e as { exitCode?: unknown }).exitCode === "number" ? (e as { exitCode: number }).exitCode : 127;
      c.state = exitedState(c.state, { Error: (e as Error).message, ExitCode: code });
      this.d.store.save(c);
      hub.end();
      this.waits.exited(c.id, code);
      if (c.hostConfig.AutoRemove) await this.remove(c.id, { force: true }).catch(() => {});
      throw e;
    }
    this.track(c, proc, hub);
    c.state = {
      ...initialState(),
      Status: "running",
      Running: true,
      Pid: proc.pid,
      StartedAt: nowRfc3339(),
      ...(probeArgs(c.config.Healthcheck, c.config.Shell) ? { Health: startingHealth(c.state.Health) } : {}),
    };
    c.networkSettings = settings;
    this.d.store.save(c);
    // With its addresses now (a --network none container has none: the same file, left alone).
    if (this.d.network.needsNetns(c)) {
      const hosts = this.files(c).hosts;
      if (hosts !== files.hosts) rewriteHosts(this.d.dir, c.id, hosts);
    }
    this.event(c, "start");
    for (const o of this.observers) o.running(c);
    void proc.exited.then((exit) => this.onExit(c.id, exit));
  }

  /** Relays a process's stdio to attached clients (and to the log, unless the runtime logs it). */
  private track(c: Container, proc: ProcessHandle, hub: StdioHub): void {
    const logger = proc.logged ? null : this.d.logs.open(containerPaths(this.d.dir, c.id).log, c.hostConfig.LogConfig?.Config ?? {});
    hub.bindStdin(c.config.OpenStdin ? proc.stdin : null);
    if (!c.config.OpenStdin) proc.stdin?.end();
    const drained = Promise.all([pump(proc.stdout, 1, hub, logger), pump(proc.stderr, 2, hub, logger)]).then(() => {
      logger?.close();
      hub.end();
    });
    const entry: Live = { proc, hub, drained, exited: false };
    this.live.set(c.id, entry);
    void proc.exited.then(() => (entry.exited = true));
  }

  private async onExit(id: string, exit: ExitInfo): Promise<void> {
    const recorded = Promise.withResolvers<void>();
    this.exiting.set(id, recorded.promise);
    try {
      await this.recordExit(id, exit);
    } finally {
      if (this.exiting.get(id) === recorded.promise) this.exiting.delete(id);
      recorded.resolve();
    }
  }

  private async recordExit(id: string, exit: ExitInfo): Promise<void> {
    const live = this.live.get(id);
    // Output first: the CLI reads the attach stream to its end, then the wait result.
    if (live) await Promise.race([live.drained, Bun.sleep(2000)]);
    live?.hub.end();
    this.live.delete(id);
    for (const o of this.observers) o.stopped(id);
    const c = this.d.store.find(id);
    if (!c) return;
    await this.releaseNow(c);
    this.tidier.later(id, "cgroup cleanup", () => this.d.runtime.cleanup(c));
    c.state = exitedState(c.state, { ExitCode: exit.exitCode, OOMKilled: exit.oomKilled, ...(exit.finishedAt ? { FinishedAt: exit.finishedAt } : {}) });
    c.networkSettings = {};
    if (exit.oomKilled) this.event(c, "oom");
    this.event(c, "die", { exitCode: String(exit.exitCode) });
    const restart = this.shouldRestart(c);
    if (restart) {
      c.state.Status = "restarting";
      c.state.Restarting = true;
    }
    this.d.store.save(c);
    this.waits.exited(id, exit.exitCode);
    if (restart) return this.scheduleRestart(c);
    if (c.hostConfig.AutoRemove) await this.remove(id, { force: true, volumes: true }).catch((e) => this.d.log?.("auto-remove failed", { id, error: String(e) }));
  }

  private shouldRestart(c: Container): boolean {
    if (this.shuttingDown || c.manuallyStopped || c.hostConfig.AutoRemove) return false;
    const p = c.hostConfig.RestartPolicy ?? { Name: "no" };
    switch (p.Name) {
      case "always":
      case "unless-stopped":
        return true;
      case "on-failure":
        return c.state.ExitCode !== 0 && (!p.MaximumRetryCount || c.restartCount < p.MaximumRetryCount);
      default:
        return false;
    }
  }

  private scheduleRestart(c: Container): void {
    const delay = Math.min(RESTART_BACKOFF_START_MS * 2 ** Math.min(c.restartCount, 20), RESTART_BACKOFF_MAX_MS);
    const t = setTimeout(() => {
      this.restartTimers.delete(c.id);
      const cur = this.d.store.find(c.id);
      if (!cur || !cur.state.Restarting) return;
      cur.restartCount++;
      this.d.store.save(cur);
      this.run(cur).catch((e) => {
        this.d.log?.("restart failed", { id: c.id, error: String(e) });
        const again = this.d.store.find(c.id);
        if (again) {
          again.state = { ...again.state, Status: "exited", Restarting: false, Error: String(e) };
          this.d.store.save(again);
          this.waits.exited(c.id, again.state.ExitCode);
        }
      });
    }, delay);
    this.restartTimers.set(c.id, t);
  }

  private setManuallyStopped(c: Container, stopped: boolean): void {
    c.manuallyStopped = stopped;
    this.d.store.setManuallyStopped(c.id, stopped);
  }

  private clearRestartTimer(id: string): void {
    const t = this.restartTimers.get(id);
    if (t) clearTimeout(t);
    this.restartTimers.delete(id);
  }

  // ---- stop / kill / restart / pause -----------------------------------

  async stop(ref: string, opts: { timeout?: number; signal?: string } = {}): Promise<void> {
    const c = this.get(ref);
    this.setManuallyStopped(c, true);
    if (c.state.Restarting) {
      this.clearRestartTimer(c.id);
      c.state = { ...c.state, Status: "exited", Restarting: false };
      this.d.store.save(c);
      this.waits.exited(c.id, c.state.ExitCode);
      return;
    }
    const live = this.live.get(c.id);
    if (!live) throw new NotModifiedError("container already stopped");
    const timeout = opts.timeout ?? c.config.StopTimeout ?? 10;
    const sig = parseSignal(opts.signal || c.config.StopSignal, 15);
    if (c.state.Paused) await this.d.runtime.resume(c).catch(() => {});
    const exited = live.proc.exited.then(() => true);
    // dockerd's events for a stop: kill (signal=N), a second kill if forced, die, then stop.
    this.event(c, "kill", { signal: String(sig) });
    live.proc.kill(sig);
    if (timeout >= 0 && !(await Promise.race([exited, Bun.sleep(timeout * 1000).then(() => false)]))) {
      this.event(c, "kill", { signal: "9" });
      live.proc.kill(9);
    }
    await exited;
    await this.settled(c.id);
    this.event(this.get(c.id), "stop");
  }

  async kill(ref: string, signal?: string): Promise<void> {
    const c = this.get(ref);
    const live = this.live.get(c.id);
    if (!live) throw new ConflictError(`Cannot kill container: ${ref}: Container ${c.id} is not running`);
    const sig = parseSignal(signal, 9);
    if (sig === 9 || sig === 15 || sig === 2) this.setManuallyStopped(c, true);
    live.proc.kill(sig);
    this.event(c, "kill", { signal: String(sig) });
    if (sig === 9) {
      await live.proc.exited;
      await this.settled(c.id);
    }
  }

  async restart(ref: string, timeout?: number): Promise<void> {
    const c = this.get(ref);
    if (this.live.has(c.id)) await this.stop(c.id, { timeout });
    await this.start(c.id);
    this.event(this.get(c.id), "restart");
  }

  async pause(ref: string): Promise<void> {
    const c = this.get(ref);
    if (!c.state.Running) throw new ConflictError(`Container ${c.id} is not running`);
    if (c.state.Paused) throw new ConflictError(`Container ${c.id} is already paused`);
    await this.d.runtime.pause(c);
    for (const o of this.observers) o.stopped(c.id);
    // dockerd stops the probes of a paused container and reports it unhealthy.
    c.state = { ...c.state, Status: "paused", Paused: true, ...withHealth(stoppedHealth(c.state.Health)) };
    this.d.store.save(c);
    this.event(c, "pause");
  }

  async unpause(ref: string): Promise<void> {
    const c = this.get(ref);
    if (!c.state.Paused) throw new ConflictError(`Container ${c.id} is not paused`);
    await this.d.runtime.resume(c);
    c.state = { ...c.state, Status: "running", Paused: false };
    this.d.store.save(c);
    this.event(c, "unpause");
    for (const o of this.observers) o.running(c);
  }

  /** Resolves once the exit handler has recorded the container's end. */
  private async settled(id: string): Promise<void> {
    const deadline = Date.now() + 5000;
    while (this.live.has(id) && !this.exiting.has(id) && Date.now() < deadline) await Bun.sleep(5);
    await this.exiting.get(id);
  }

  /** docker update: new limits (applied to the running cgroup) and restart policy. dockerd answers Warnings null. */
  async update(ref: string, body: UpdateBody): Promise<{ Warnings: null }> {
    const c = this.get(ref);
    const hostConfig = applyUpdate(c.id, c.hostConfig, body);
    if (this.live.has(c.id)) {
      await this.d.runtime.update({ ...c, hostConfig }).catch((e: unknown) => {
        throw new EngineError(`Cannot update container ${c.id}: ${(e as Error).message}`);
      });
    }
    const cur = this.get(c.id);
    cur.hostConfig = hostConfig;
    this.d.store.save(cur);
    this.event(cur, "update");
    return { Warnings: null };
  }

  // ---- remove / rename -------------------------------------------------

  async remove(ref: string, opts: { force?: boolean; volumes?: boolean } = {}): Promise<void> {
    const c = this.get(ref);
    if (this.live.has(c.id) || c.state.Running) {
      if (!opts.force) {
        // dockerd 20.10's words (daemon/delete.go).
        throw new ConflictError(
          c.state.Paused
            ? `You cannot remove a paused container ${c.id}. Unpause and then stop the container before attempting removal or force remove`
            : `You cannot remove a running container ${c.id}. Stop the container before attempting removal or force remove`,
        );
      }
      this.setManuallyStopped(c, true);
      const live = this.live.get(c.id);
      if (live) {
        if (c.state.Paused) await this.d.runtime.resume(c).catch(() => {});
        live.proc.kill(9);
        await live.proc.exited;
        await this.settled(c.id);
      }
    }
    this.clearRestartTimer(c.id);
    const cur = this.d.store.find(c.id);
    if (!cur) return; // auto-removed meanwhile
    await this.releaseNow(cur);
    this.d.volumes?.release(cur.id, !!opts.volumes);
    // The rw layer and the directory (hosts, logs, mounts/shm) leave their paths now, as dockerd's,
    // and are deleted after the answer with the cgroup. The layer goes to the layer store's temp
    // area, emptied at the next start: a crash must not leave it for lost+found.
    const purgeRw = this.d.rootfs.setAside ? this.d.rootfs.setAside(cur.id) : (await this.d.rootfs.remove(cur.id), null);
    const dir = setAside(containerPaths(this.d.dir, cur.id).dir);
    this.d.store.delete(cur.id);
    this.event(cur, "destroy");
    this.waits.removed(cur.id, cur.state.ExitCode);
    this.tidier.later(cur.id, "removal", async () => {
      await this.d.runtime.cleanup(cur);
      // Off the loop (thread pool): a request that comes meanwhile is not held up by the unlinks.
      await purgeRw?.();
      if (dir) await rm(dir, { recursive: true, force: true });
    });
  }

  rename(ref: string, newName: string): void {
    const c = this.get(ref);
    const name = newName.replace(/^\//, "");
    if (!VALID_NAME.test(name)) throw new InvalidParameterError(`Invalid container name (${newName}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
    if (name === c.name) throw new InvalidParameterError(`Renaming a container with the same name as its current name`);
    const other = this.d.store.byName(name);
    if (other) throw nameInUse(name, other.id);
    const old = c.name;
    c.name = name;
    this.d.store.save(c);
    this.event(c, "rename", { oldName: `/${old}` });
  }

  // ---- wait / attach / resize ------------------------------------------

  /**
   * Registers the wait at once (the caller flushes headers right after, so the
   * docker CLI can send `start`) and resolves when the condition holds.
   */
  wait(ref: string, condition: WaitCondition = "not-running"): Promise<WaitResult> {
    const c = this.get(ref);
    if (condition === "not-running" && !c.state.Running && !c.state.Restarting && !this.starting.has(c.id)) {
      return Promise.resolve({ StatusCode: c.state.ExitCode, Error: null });
    }
    return this.waits.add(c.id, condition);
  }

  /**
   * POST /containers/{id}/attach: when the current run's output has ended, first
   * waits for its exit to be recorded, so the caller sees the container stopped
   * (dockerpty, as Compose's `run` uses it, inspects next and starts it again)
   * and this attach gets that next run, as with dockerd.
   */
  async attachSettled(ref: string, sub: Subscriber): Promise<{ hub: StdioHub; detach: () => void; container: Container }> {
    const live = this.live.get(this.get(ref).id);
    if (live && (live.exited || live.hub.isEnded)) {
      await Promise.race([live.proc.exited, Bun.sleep(2000)]);
      if (live.exited) await this.settled(this.get(ref).id);
    }
    return this.attach(ref, sub);
  }

  /** Subscribes to the container's stdio for the current or next run. */
  /** `detach(true)`: the client typed its detach keys (dockerd's detach event); the process runs on. */
  attach(ref: string, sub: Subscriber): { hub: StdioHub; detach: (byKeys?: boolean) => void; container: Container } {
    const c = this.get(ref);
    // A run whose output has ended gives nothing more: attach to the next run instead.
    const cur = this.live.get(c.id);
    const hub = cur && !cur.exited && !cur.hub.isEnded ? cur.hub : this.pendingHub(c);
    this.event(c, "attach");
    const unsubscribe = hub.subscribe(sub);
    const detach = (byKeys = false) => {
      unsubscribe();
      if (byKeys) this.event(c, "detach");
    };
    return { hub, detach, container: c };
  }

  private pendingHub(c: Container): StdioHub {
    let hub = this.pendingHubs.get(c.id);
    if (!hub) {
      hub = new StdioHub(c.config.StdinOnce);
      this.pendingHubs.set(c.id, hub);
    }
    return hub;
  }

  resize(ref: string, rows: number, cols: number): void {
    const c = this.get(ref);
    const live = this.live.get(c.id);
    if (!live) throw new ConflictError(`Container ${c.id} is not running`);
    live.proc.resize?.(rows, cols);
    this.event(c, "resize", { height: String(rows), width: String(cols) });
  }

  /** The live process, for exec and stats. */
  process(ref: string): { c: Container; pid: number } {
    const c = this.get(ref);
    const live = this.live.get(c.id);
    if (!live) throw new ConflictError(`Container ${c.id} is not running`);
    if (c.state.Paused) throw new ConflictError(`Container ${c.id} is paused, unpause the container before exec`);
    return { c, pid: live.proc.pid };
  }

  /** After `network connect/disconnect` on a running container: fresh NetworkSettings and /etc/hosts. */
  networkChanged(ref: string): void {
    const c = this.get(ref);
    if (c.state.Running && c.state.Pid > 0) c.networkSettings = this.d.network.settings(c, c.state.Pid);
    this.d.store.save(c);
    rewriteHosts(this.d.dir, c.id, this.files(c).hosts);
  }

  /** `network connect/disconnect`: the networks the container is plugged into at its next start (and now, if running). */
  setEndpoints(ref: string, update: (eps: EndpointsConfig) => EndpointsConfig): void {
    const c = this.get(ref);
    c.networking = { ...c.networking, EndpointsConfig: update({ ...configuredEndpoints(c) }) };
    this.d.store.save(c);
  }

  /** A healthcheck result for the run that started at `startedAt` (a later run ignores it); health_status on a change. */
  recordHealth(id: string, startedAt: string, fold: (h: Health) => Health): void {
    const c = this.d.store.find(id);
    if (!c?.state.Health || !c.state.Running || c.state.Paused || c.state.StartedAt !== startedAt) return;
    const before = c.state.Health.Status;
    c.state.Health = fold(c.state.Health);
    this.d.store.save(c);
    if (c.state.Health.Status !== before) this.event(c, `health_status: ${c.state.Health.Status}`);
  }

  isRunning(id: string): boolean {
    return this.live.has(id);
  }

  // ---- daemon start / stop ---------------------------------------------

  /** Resolved once start-up has reconciled networking: exits found by adopt() are recorded after that. */
  private booted!: () => void;
  private readonly bootDone = new Promise<void>((r) => (this.booted = r));

  /**
   * --live-restore, before networking reconciles: takes back the containers
   * a previous daemon left running — same pid, same start time, stdio and
   * exit through the runtime (the keeper) — and records the real exit of
   * those that ended while no daemon ran. What the runtime does not hold is
   * left to reconcile(), which ends it as a crash.
   */
  adopt(): number {
    if (!this.d.runtime.restore) return 0;
    let n = 0;
    for (const c of this.d.store.all()) {
      if (!c.state.Running || c.state.Pid <= 0) continue;
      const proc = this.d.runtime.restore(c);
      if (!proc) continue;
      this.track(c, proc, this.pendingHubs.get(c.id) ?? new StdioHub(c.config.StdinOnce));
      // Recorded once networking knows which endpoints stay (an exit releases them).
      void Promise.all([proc.exited, this.bootDone]).then(([exit]) => this.onExit(c.id, exit));
      n++;
    }
    return n;
  }

  /**
   * After a restart or crash of the daemon: containers recorded as running
   * lost their supervisor (and their stdio). Kill what is left of them,
   * record the end, clean up, then honour restart policies.
   */
  async reconcile(): Promise<void> {
    this.booted();
    const revive: Container[] = [];
    for (const c of this.d.store.all()) {
      // Taken back by adopt(): alive, or its exit is on its way to onExit.
      if (this.live.has(c.id)) continue;
      const wasRunning = c.state.Running || c.state.Restarting;
      // Processes in the container's cgroup, also of a start the daemon died in the middle of.
      const left = this.d.runtime.leftovers(c);
      if (wasRunning || c.state.Status === "removing" || left.length) {
        if (left.length) this.d.log?.("killing processes a previous daemon left", { id: c.id, status: c.state.Status, pids: left.join(",") });
        switch (leftoverVerdict(c)) {
          case "kill":
            if (c.state.Pid > 0) killStale(c.state.Pid, c.id);
            await this.release(c);
        }
        c.state = exitedState(c.state, leftoverExit(c, left.length > 0) ?? {});
        c.networkSettings = {};
        this.d.store.save(c);
        if (c.hostConfig.AutoRemove) {
          await this.remove(c.id, { force: true }).catch(() => {});
          continue;
        }
      }
      if (restartsAtBoot(c, wasRunning)) revive.push(c);
    }
    for (const c of revive) {
      // As dockerd's restore (containerStart with resetRestartManager): the count starts again.
      c.restartCount = 0;
      await this.run(c).catch((e) => this.d.log?.("restart on boot failed", { id: c.id, error: String(e) }));
    }
    // Starts in flight keep their pins too (made before the start is recorded).
    this.d.network.sweep?.([...this.live.keys(), ...this.starting.keys()]);
  }

  /**
   * Daemon shutdown: stop every container (stop signal, then SIGKILL after
   * its timeout), as dockerd does — or, with --live-restore, leave them to
   * the keeper, untouched.
   */
  async shutdown(timeoutSeconds = 10): Promise<void> {
    this.shuttingDown = true;
    for (const t of this.restartTimers.values()) clearTimeout(t);
    if (this.d.liveRestore) return this.tidier.all();
    await Promise.all(
      [...this.live.keys()].map(async (id) => {
        const c = this.d.store.find(id);
        const live = this.live.get(id);
        if (!c || !live) return;
        // Not a user stop: `always`/`unless-stopped` come back with the daemon.
        live.proc.kill(parseSignal(c.config.StopSignal, 15));
        const done = await Promise.race([live.proc.exited.then(() => true), Bun.sleep(Math.min(c.config.StopTimeout ?? timeoutSeconds, timeoutSeconds) * 1000).then(() => false)]);
        if (!done) live.proc.kill(9);
        await live.proc.exited;
      }),
    );
    await Promise.all([...this.live.keys()].map((id) => this.settled(id)));
    await this.tidier.all();
  }

  /** What a stopped container no longer needs: its network endpoints, its shareable /dev/shm and its cgroup. */
  private async release(c: Container): Promise<void> {
    await this.releaseNow(c);
    await this.d.runtime.cleanup(c).catch(() => {});
  }

  /**
   * What goes before an exit or a removal is told (the cgroup goes after, tidy.ts): leases and port
   * maps, as a start right after may want the same address, and the shareable /dev/shm host mount.
   */
  private async releaseNow(c: Container): Promise<void> {
    unmountShareableShm(this.d.dir, c.id);
    await this.d.network.disconnect(c).catch((e) => this.d.log?.("network disconnect failed", { id: c.id, error: String(e) }));
  }

  private event(c: Container, action: string, extra: Record<string, string> = {}): void {
    this.d.events.publish({
      Type: "container",
      Action: action,
      Actor: { ID: c.id, Attributes: { ...c.config.Labels, image: c.imageRef, name: c.name, ...extra } },
    });
  }
}

/** The state of a container whose process is gone. */
function exitedState(s: ContainerState, patch: Partial<ContainerState>): ContainerState {
  return { ...s, Status: "exited", Running: false, Paused: false, Restarting: false, Pid: 0, FinishedAt: nowRfc3339(), ...withHealth(stoppedHealth(s.Health)), ...patch };
}

function withHealth(h: Health | undefined): Pick<ContainerState, "Health"> {
  return h ? { Health: h } : {};
}

async function pump(src: Readable | null, stream: StreamId, hub: StdioHub, logger: LogSink | null): Promise<void> {
  if (!src) return;
  try {
    for await (const chunk of src) {
      const b = chunk instanceof Uint8Array ? chunk : Buffer.from(chunk as string);
      logger?.write(stream === 1 ? "stdout" : "stderr", b);
      await hub.output(stream, b); // held back while an attached client is slow
    }
  } catch {
    // the pipe broke: the process is gone
  }
}

/** Kills a process left by a previous daemon, but only if its cgroup says it is that container's (pids get reused). */
function killStale(pid: number, id: string): void {
  try {
    if (!readFileSync(`/proc/${pid}/cgroup`, "utf8").includes(id)) return;
    process.kill(pid, 9);
  } catch {
    // already gone
  }
}

export type { ContainerConfig };

/**
 * dockerd's restore at boot: `always` comes back (even after a user stop),
 * `unless-stopped` unless a user stopped it, `on-failure` when it died with
 * the daemon and has retries left. A never-started container stays created.
 */
function restartsAtBoot(c: Container, wasRunning: boolean): boolean {
  if (c.state.Status === "created") return false;
  const p = c.hostConfig.RestartPolicy ?? { Name: "no" };
  switch (p.Name) {
    case "always":
      return true;
    case "unless-stopped":
      return !c.manuallyStopped;
    case "on-failure":
      return wasRunning && !c.manuallyStopped && (!p.MaximumRetryCount || c.restartCount < p.MaximumRetryCount);
    default:
      return false;
  }
}
