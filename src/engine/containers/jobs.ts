import { handle, jobType, type JobDef } from "../engine.ts";
import type { ExecConfig, ProcessHandle } from "./ports.ts";
import type { ContainerService } from "./service.ts";
import type { ExecService, StartedExec } from "./exec.ts";
import type { WaitCondition, WaitResult } from "./waits.ts";
import type { Subscriber, StdioHub } from "./stdio.ts";
import type { Container } from "./types.ts";
import type { UpdateBody } from "./update.ts";
import { ConflictError, InvalidParameterError } from "../errors.ts";
import { containerPaths } from "./files.ts";
import { checkHealthFilter, matchesFilters } from "./list.ts";
import { inspectView, listView } from "./render.ts";
import { psWithArgs } from "./top.ts";
import { netCounters, statsView, type StatsSample } from "./stats.ts";

export type Ref = { ref: string };

export const CreateJob = jobType<{ name?: string; body: Record<string, unknown> }, { Id: string; Warnings: string[] }>("create");
export const StartJob = jobType<Ref, void>("start");
export const StopJob = jobType<Ref & { timeout?: number; signal?: string }, void>("stop");
export const KillJob = jobType<Ref & { signal?: string }, void>("kill");
export const RestartJob = jobType<Ref & { timeout?: number }, void>("restart");
export const PauseJob = jobType<Ref, void>("pause");
export const UnpauseJob = jobType<Ref, void>("unpause");
export const RemoveJob = jobType<Ref & { force: boolean; volumes: boolean }, void>("rm");
export const RemoveLinkJob = jobType<Ref, void>("rm-link");
export const RenameJob = jobType<Ref & { name: string }, void>("rename");
export const UpdateJob = jobType<Ref & { body: UpdateBody }, { Warnings: null }>("update");
export const ResizeJob = jobType<Ref & { rows: number; cols: number }, void>("resize");
export const WaitJob = jobType<Ref & { condition: WaitCondition }, WaitResult>("wait");
export const AttachJob = jobType<Ref & { sub: Subscriber }, { hub: StdioHub; detach: (byKeys?: boolean) => void; container: Container }>("attach");
export const LogsJob = jobType<
  Ref & { stdout: boolean; stderr: boolean; follow: boolean; tail?: number; since?: number; until?: number; signal: AbortSignal; onLine: (stream: "stdout" | "stderr", time: string, text: string) => Promise<void> | undefined },
  void
>("logs");
export const ExecCreateJob = jobType<Ref & { config: ExecConfig }, { Id: string }>("exec-create");
export const ExecStartJob = jobType<{ id: string }, StartedExec>("exec-start");
export const ExecResizeJob = jobType<{ id: string; rows: number; cols: number }, void>("exec-resize");
export const ExecInspectJob = jobType<{ id: string }, ReturnType<ExecService["inspect"]>>("exec-inspect");
export const TopJob = jobType<Ref & { psArgs: string }, { Titles: string[]; Processes: string[][] }>("top");

export function containerJobs(svc: ContainerService, execs: ExecService): JobDef<any, any>[] {
  return [
    handle(CreateJob, (_c, a) => svc.create(a.name, a.body), (a) => [a.name ?? "", String(a.body.Image ?? "")]),
    handle(StartJob, (_c, a) => svc.start(a.ref), (a) => [a.ref]),
    handle(StopJob, (_c, a) => svc.stop(a.ref, a), (a) => [a.ref]),
    handle(KillJob, (_c, a) => svc.kill(a.ref, a.signal), (a) => [a.ref, a.signal ?? ""]),
    handle(RestartJob, (_c, a) => svc.restart(a.ref, a.timeout), (a) => [a.ref]),
    handle(PauseJob, (_c, a) => svc.pause(a.ref), (a) => [a.ref]),
    handle(UnpauseJob, (_c, a) => svc.unpause(a.ref), (a) => [a.ref]),
    handle(RemoveJob, (_c, a) => svc.remove(a.ref, a), (a) => [a.ref]),
    handle(RemoveLinkJob, (_c, a) => svc.removeLink(a.ref), (a) => [a.ref]),
    handle(RenameJob, (_c, a) => svc.rename(a.ref, a.name), (a) => [a.ref, a.name]),
    handle(UpdateJob, (_c, a) => svc.update(a.ref, a.body), (a) => [a.ref]),
    handle(ResizeJob, (_c, a) => svc.resize(a.ref, a.rows, a.cols), (a) => [a.ref]),
    handle(
      WaitJob,
      async (ctx, a) => {
        const p = svc.wait(a.ref, a.condition);
        ctx.ready();
        return p;
      },
      (a) => [a.ref, a.condition],
    ),
    handle(AttachJob, (_c, a) => svc.attachSettled(a.ref, a.sub), (a) => [a.ref]),
    handle(
      LogsJob,
      async (ctx, a) => {
        const c = svc.get(a.ref);
        if (c.hostConfig.LogConfig?.Type && c.hostConfig.LogConfig.Type !== "json-file") {
          throw new InvalidParameterError(`configured logging driver does not support reading`);
        }
        ctx.ready();
        const stopped = a.follow ? svc.wait(c.id, "not-running").then(() => {}) : undefined;
        for await (const e of svc.d.logs.read(containerPaths(svc.d.dir, c.id).log, { ...a, stopped })) {
          const behind = a.onLine(e.stream, e.time, e.log); // a promise when the reader fell behind
          if (behind) await behind;
        }
      },
      (a) => [a.ref],
    ),
    handle(ExecCreateJob, (_c, a) => execs.create(a.ref, a.config), (a) => [a.ref, ...a.config.Cmd]),
    handle(ExecStartJob, (_c, a) => execs.start(a.id), (a) => [a.id.slice(0, 12)]),
    handle(ExecResizeJob, (_c, a) => execs.resize(a.id, a.rows, a.cols)),
    handle(ExecInspectJob, (_c, a) => execs.inspect(a.id)),
    handle(TopJob, async (_c, a) => {
      const c = svc.get(a.ref);
      if (!svc.isRunning(c.id)) throw new ConflictError(`Container ${c.id} is not running`);
      const table = await svc.d.runtime.top(c, a.psArgs);
      if (!a.psArgs || a.psArgs === "-ef") return table;
      return psWithArgs(a.psArgs, table.Processes.map((r) => Number(r[table.Titles.indexOf("PID")])));
    }),
  ];
}

export type { ProcessHandle };

export const ListJob = jobType<{ all: boolean; limit?: number; filters: Record<string, string[]>; size?: boolean }, ReturnType<typeof listView>[]>("ps");
export const InspectJob = jobType<Ref & { size?: boolean }, ReturnType<typeof inspectView> & Partial<ContainerSizes>>("inspect");
export const PruneJob = jobType<{ filters: Record<string, string[]> }, { ContainersDeleted: string[] | null; SpaceReclaimed: number }>("container-prune");

export interface QueryOptions {
  driver: string;
  /** Does the container's image match `ref` (for the `ancestor` filter)? */
  imageMatches: (ref: string, c: Container) => boolean;
  /** ?size=1: the rw layer's bytes and those plus the image's (cri-dockerd reads SizeRw in its stats loop). */
  sizes: (c: Container) => Promise<ContainerSizes>;
}

export interface ContainerSizes {
  SizeRw: number;
  SizeRootFs: number;
}

export function containerQueryJobs(svc: ContainerService, execs: ExecService, o: QueryOptions): JobDef<any, any>[] {
  return [
    handle(ListJob, (_c, a) => {
      checkHealthFilter(a.filters.health);
      let list = svc.d.store.all();
      if (!a.all && !a.filters.status?.length && !a.filters.exited?.length) list = list.filter((c) => c.state.Running);
      list = list.filter((c) => matchesFilters(c, a.filters, o.imageMatches));
      for (const key of ["before", "since"] as const) {
        const ref = a.filters[key]?.[0];
        if (!ref) continue;
        const pivot = svc.get(ref);
        list = list.filter((c) => (key === "before" ? c.created < pivot.created : c.created > pivot.created));
      }
      if (a.limit && a.limit > 0) list = list.slice(0, a.limit);
      if (!a.size) return list.map((c) => listView(c, c.imageId));
      return Promise.all(list.map(async (c) => ({ ...listView(c, c.imageId), ...(await o.sizes(c)) })));
    }),
    handle(
      InspectJob,
      async (_c, a) => {
        const c = svc.get(a.ref);
        const view = inspectView(c, { root: svc.d.dir, driver: o.driver, execIds: execs.idsFor(c.id), imageConfigId: c.imageId });
        if (!a.size) return view;
        // dockerd places the sizes right after GraphDriver.
        const { Mounts, Config, NetworkSettings, ...head } = view;
        return { ...head, ...(await o.sizes(c)), Mounts, Config, NetworkSettings };
      },
      (a) => [a.ref],
    ),
    handle(PruneJob, async (_c, a) => {
      const deleted: string[] = [];
      let reclaimed = 0;
      for (const c of svc.d.store.all()) {
        if (c.state.Running || c.state.Restarting || !matchesFilters(c, a.filters, o.imageMatches)) continue;
        // dockerd counts the rw layer's size (SizeRw) of each container it removes.
        const size = (await svc.d.rootfs.size?.(c.id).catch(() => 0)) ?? 0;
        await svc.remove(c.id, {});
        deleted.push(c.id);
        reclaimed += size;
      }
      // dockerd's list is nil (JSON null) when nothing was removed.
      return { ContainersDeleted: deleted.length ? deleted : null, SpaceReclaimed: reclaimed };
    }),
  ];
}

export const StatsJob = jobType<Ref & { stream: boolean; signal: AbortSignal; onSample: (v: unknown) => void }, void>("stats");

/** Samples cgroup stats: one answer (two samples a second apart, for precpu) or one per second. */
export function statsJobs(svc: ContainerService): JobDef<any, any>[] {
  return [
    handle(
      StatsJob,
      async (ctx, a) => {
        const c = svc.get(a.ref);
        // The host's interfaces are not the container's: host-network containers get no `networks`, as with dockerd.
        const ownNet = c.hostConfig.NetworkMode !== "host";
        const sample = async (): Promise<StatsSample | null> =>
          svc.isRunning(c.id)
            ? { read: new Date().toISOString(), s: await svc.d.runtime.stats(c), net: ownNet ? netCounters(c.state.Pid) : undefined }
            : null;
        let prev = await sample();
        ctx.ready();
        if (!prev) return a.onSample(statsView(c, { read: new Date().toISOString(), s: emptyStats() }, null));
        do {
          await Bun.sleep(1000);
          if (a.signal.aborted) return;
          const cur = await sample();
          if (!cur) return;
          a.onSample(statsView(c, cur, prev));
          prev = cur;
        } while (a.stream && !a.signal.aborted);
      },
      (a) => [a.ref],
    ),
  ];
}

function emptyStats() {
  return { cpuTotal: 0, cpuPercpu: [], systemCpu: 0, onlineCpus: 0, memoryUsage: 0, memoryLimit: 0, memoryStats: {}, pids: 0, blkioRead: 0, blkioWrite: 0 };
}
