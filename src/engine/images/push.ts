// `docker push`: for each layer, HEAD the blob (skip if there), else mount it
// from the repository it came from on the same registry, else upload it
// (monolithic, or PATCH chunks for big blobs); then the config and the
// manifest. The manifest bytes pulled are re-sent unchanged, so an image
// pulled and pushed elsewhere keeps its digest.
import { NotFoundError } from "../errors.ts";
import type { Credentials } from "../distribution/credentials.ts";
import { MediaType, type Descriptor, type ImageConfig, type ImageManifest } from "../distribution/manifest.ts";
import { familiarString, parseUserRef, refString, repoName, type Reference } from "../distribution/reference.ts";
import type { Repository } from "../distribution/registry-client.ts";
import type { JobContext } from "../job.ts";
import type { ImageDeps } from "./deps.ts";
import { progress, shortId, status, type ProgressMessage } from "./progress.ts";
import { Semaphore } from "./singleflight.ts";
import type { ImageRecord } from "../../store/image-store.ts";

export interface PushArgs {
  ref: string;
  auth?: Credentials | null;
}

export interface PushResult {
  tag: string;
  digest: string;
  size: number;
}

type Emit = (m: ProgressMessage | { progressDetail: {}; aux: unknown }) => void;

export class Pusher {
  constructor(private readonly d: ImageDeps) {}

  async push(ctx: Pick<JobContext, "stdout" | "setProgress"> | null, args: PushArgs): Promise<PushResult> {
    const emit: Emit = ctx ? (m) => ctx.stdout.write(m) : () => {};
    const ref = parseUserRef(args.ref);
    const img = this.d.images.byRef(refString(ref));
    if (!img) throw new NotFoundError(`An image does not exist locally with the tag: ${familiarName(ref)}`);
    emit(status(`The push refers to repository [${repoName(ref)}]`));
    const repo = this.d.registry.repository(ref, { creds: args.auth, push: true });
    const { bytes, manifest, mediaType } = this.manifestFor(img);
    const config = JSON.parse(img.config) as ImageConfig;
    const diffIds = config.rootfs.diff_ids;

    for (const d of diffIds) emit(status("Preparing", shortId(d)));
    const sem = new Semaphore(this.d.maxConcurrentUploads ?? 5);
    await Promise.all(
      manifest.layers.map(async (desc, i) => {
        const release = await sem.acquire();
        try {
          await this.pushLayer(repo, desc, shortId(diffIds[i] ?? desc.digest), diffIds[i] ?? "", emit);
        } finally {
          release();
        }
      }),
    );
    await this.pushBlob(repo, manifest.config, () => {});
    const tag = ref.tag ?? ref.digest ?? "latest";
    const digest = await repo.putManifest(tag, bytes, mediaType);
    this.d.images.setRef(`${repoName(ref)}@${digest}`, img.id, "digest");
    emit(status(`${tag}: digest: ${digest} size: ${bytes.byteLength}`));
    emit({ progressDetail: {}, aux: { Tag: tag, Digest: digest, Size: bytes.byteLength } });
    return { tag, digest, size: bytes.byteLength };
  }

  /** The stored manifest when we have it and all its blobs; else one made from the known layer blobs. */
  private manifestFor(img: ImageRecord): { bytes: Uint8Array; manifest: ImageManifest; mediaType: string } {
    const c = this.d.content;
    if (img.manifestDigest && c.has(img.manifestDigest)) {
      const bytes = c.readBytes(img.manifestDigest);
      const manifest = JSON.parse(new TextDecoder().decode(bytes)) as ImageManifest;
      if (manifest.layers.every((l) => c.has(l.digest)) && c.has(manifest.config.digest)) {
        return { bytes, manifest, mediaType: manifest.mediaType ?? MediaType.ociManifest };
      }
    }
    const config = JSON.parse(img.config) as ImageConfig;
    const layers: Descriptor[] = config.rootfs.diff_ids.map((d) => {
      const b = this.d.images.blobsForDiff(d).find((x) => c.has(x.digest));
      if (!b) throw new NotFoundError(`no compressed blob stored for layer ${d}; pushing images built locally is not supported yet`);
      return { mediaType: b.mediaType, digest: b.digest, size: b.size };
    });
    const configBytes = new TextEncoder().encode(img.config);
    c.writeBytes(configBytes, img.id);
    const docker = layers.every((l) => l.mediaType === MediaType.dockerLayer);
    const manifest: ImageManifest = {
      schemaVersion: 2,
      mediaType: docker ? MediaType.dockerManifest : MediaType.ociManifest,
      config: { mediaType: docker ? MediaType.dockerConfig : MediaType.ociConfig, digest: img.id, size: configBytes.byteLength },
      layers,
    };
    const bytes = new TextEncoder().encode(JSON.stringify(manifest, null, 3));
    return { bytes, manifest, mediaType: manifest.mediaType! };
  }

  private async pushLayer(repo: Repository, desc: Descriptor, id: string, diffId: string, emit: Emit): Promise<void> {
    if (await repo.hasBlob(desc.digest)) {
      emit(status("Layer already exists", id));
      return;
    }
    const known = this.d.images.layerBlob(desc.digest);
    const from = known?.source ? sourceRepo(known.source, repo.ref) : null;
    let location: string | undefined;
    if (from) {
      const m = await repo.mountBlob(desc.digest, from);
      if (m.mounted) {
        emit(status(`Mounted from ${from}`, id));
        this.record(repo, desc, diffId);
        return;
      }
      location = m.location;
    }
    await this.pushBlob(repo, desc, (n) => emit(progress("Pushing", id, n, desc.size)), location);
    this.record(repo, desc, diffId);
    emit(status("Pushed", id));
  }

  private record(repo: Repository, desc: Descriptor, diffId: string): void {
    if (diffId) this.d.images.recordLayerBlob({ digest: desc.digest, diffId, mediaType: desc.mediaType, size: desc.size, source: repoName(repo.ref) });
  }

  private async pushBlob(repo: Repository, desc: Descriptor, onProgress: (n: number) => void, location?: string): Promise<void> {
    if (!location && (await repo.hasBlob(desc.digest))) return;
    const file = Bun.file(this.d.content.path(desc.digest));
    const loc = location ?? (await repo.startUpload());
    const chunk = this.d.uploadChunkSize ?? 16 << 20;
    if (file.size > chunk) await repo.putBlobChunked(loc, desc.digest, file, chunk, onProgress);
    else {
      await repo.putBlob(loc, desc.digest, file);
      onProgress(file.size);
    }
  }
}

function familiarName(r: Reference): string {
  return familiarString({ ...r, digest: undefined, tag: undefined });
}

/** The repository path to mount from: same registry, another repository. */
function sourceRepo(source: string, target: Reference): string | null {
  const prefix = `${target.domain}/`;
  if (!source.startsWith(prefix)) return null;
  const path = source.slice(prefix.length);
  return path === target.path ? null : path;
}
