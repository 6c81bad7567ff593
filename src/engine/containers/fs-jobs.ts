// Jobs over a container's files and the images made from them: cp (archive),
// diff (changes), export, commit, and import of a rootfs tarball.
import { handle, jobType, type JobDef } from "../engine.ts";
import type { ContentStore } from "../../store/content-store.ts";
import type { ImageStore } from "../../store/image-store.ts";
import type { LayerStore } from "../../store/layers/layer-store.ts";
import type { ByteSource } from "../../store/tar/byte-source.ts";
import type { Change } from "../../store/graphdriver/driver.ts";
import { importImage } from "../images/import.ts";
import { ContainerArchive, type PathStat } from "./archive.ts";
import { commitContainer, type CommitRequest } from "./commit.ts";
import type { ContainerService } from "./service.ts";

type Ref = { ref: string };

export const ArchiveStatJob = jobType<Ref & { path: string }, PathStat>("archive-stat");
export const ArchiveGetJob = jobType<Ref & { path: string }, { stat: PathStat; tar: ReadableStream<Uint8Array> }>("archive-get");
export const ArchivePutJob = jobType<Ref & { path: string; tar: ReadableStream<Uint8Array> }, void>("archive-put");
export const ChangesJob = jobType<Ref, { Path: string; Kind: number }[]>("changes");
export const ExportJob = jobType<Ref, ReadableStream<Uint8Array>>("export");
export const CommitJob = jobType<CommitRequest, { Id: string }>("commit");
export const ImportJob = jobType<{ tar: ByteSource; reference?: string; message?: string; changes: string[]; source: string }, { id: string }>("import");

/** Docker's change kinds: 0 modified, 1 added, 2 deleted. */
const KIND = { C: 0, A: 1, D: 2 } as const;

/**
 * Mount points `ctr init` creates in the rw layer when the image lacks them.
 * Docker keeps these in a separate init layer, so `docker diff` never lists them.
 */
const INIT_PATHS = new Set(["/dev", "/proc", "/sys", "/etc/hostname", "/etc/hosts", "/etc/resolv.conf", "/dev/console"]);

/** Drops init's mount points, and directories listed as changed only because of them. */
export function withoutInitPaths(changes: Change[]): Change[] {
  const kept = changes.filter((c) => !INIT_PATHS.has(c.path) && !c.path.startsWith("/dev/") && !c.path.startsWith("/proc/") && !c.path.startsWith("/sys/"));
  return kept.filter((c) => c.kind !== "C" || !isDirChangeOnlyFromInit(c.path, changes, kept));
}

function isDirChangeOnlyFromInit(path: string, all: Change[], kept: Change[]): boolean {
  const under = (c: Change) => c.path.startsWith(path + "/");
  return all.some(under) && !kept.some(under);
}

export interface FsJobDeps {
  containers: ContainerService;
  layers: LayerStore;
  content: ContentStore;
  images: ImageStore;
  tmpDir: string;
}

export function containerFsJobs(d: FsJobDeps): JobDef<any, any>[] {
  const svc = d.containers;
  const archive = new ContainerArchive({ get: (r) => svc.get(r), rwMount: (id) => d.layers.rwMount(id), tmpDir: d.tmpDir });
  const store = { content: d.content, layers: d.layers, images: d.images, tmpDir: d.tmpDir };
  return [
    handle(ArchiveStatJob, (_c, a) => archive.stat(a.ref, a.path), (a) => [a.ref, a.path]),
    handle(ArchiveGetJob, (_c, a) => archive.read(a.ref, a.path), (a) => [a.ref, a.path]),
    handle(ArchivePutJob, (_c, a) => archive.write(a.ref, a.path, a.tar), (a) => [a.ref, a.path]),
    handle(
      ChangesJob,
      async (_c, a) => withoutInitPaths(await d.layers.changes(svc.get(a.ref).id)).map((ch) => ({ Path: ch.path, Kind: KIND[ch.kind] })),
      (a) => [a.ref],
    ),
    handle(ExportJob, (_c, a) => archive.exportTar(a.ref, (dir) => d.layers.exportTar(dir)), (a) => [a.ref]),
    handle(
      CommitJob,
      (_c, a) => commitContainer({ ...store, get: (r) => svc.get(r), pause: (r) => svc.pause(r), unpause: (r) => svc.unpause(r) }, a),
      (a) => [a.ref, a.reference ?? ""],
    ),
    handle(ImportJob, (_c, a) => importImage(store, a), (a) => [a.source, a.reference ?? ""]),
  ];
}
