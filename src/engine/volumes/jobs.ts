import { handle, jobType, type JobDef } from "../engine.ts";
import type { Volume, VolumeService } from "./service.ts";

export const VolumeCreateJob = jobType<{ Name?: string; Driver?: string; Labels?: Record<string, string>; DriverOpts?: Record<string, string> }, Volume>("volume-create");
export const VolumeListJob = jobType<{ filters: Record<string, string[]> }, { Volumes: Volume[]; Warnings: string[] | null }>("volume-ls");
export const VolumeInspectJob = jobType<{ name: string }, Volume>("volume-inspect");
export const VolumeRemoveJob = jobType<{ name: string; force: boolean }, void>("volume-rm");
export const VolumePruneJob = jobType<{ filters: Record<string, string[]>; all: boolean }, { VolumesDeleted: string[]; SpaceReclaimed: number }>("volume-prune");

export function volumeJobs(v: VolumeService): JobDef<any, any>[] {
  return [
    handle(VolumeCreateJob, (_c, a) => v.create(a), (a) => [a.Name ?? ""]),
    handle(VolumeListJob, (_c, a) => ({ Volumes: v.list(a.filters), Warnings: null })),
    handle(VolumeInspectJob, (_c, a) => v.get(a.name), (a) => [a.name]),
    handle(VolumeRemoveJob, (_c, a) => v.remove(a.name, a.force), (a) => [a.name]),
    handle(VolumePruneJob, (_c, a) => v.prune(a.filters, a.all)),
  ];
}
