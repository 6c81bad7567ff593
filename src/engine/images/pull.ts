// `docker pull`: resolve the manifest (picking a platform from an index),
// fetch the config, then each missing layer in ONE streamed pass:
//   HTTP body → content-store ingest (sha256 of the compressed bytes)
//             → decompress (gzip/zstd sniffed) → LayerStore.apply (sha256 of the diff).
// Nothing becomes visible before it is whole: blobs are renamed into the
// content store after verification, layers by the layer store, and the image
// row with its references is written in one transaction after every layer.
import { decompressStream } from "../../store/tar/decompress.ts";
import { DigestMismatchError, type Ingest } from "../../store/content-store.ts";
import { chainIdsOf } from "../../store/layers/chain-id.ts";
import { InvalidParameterError, NotFoundError } from "../errors.ts";
import type { Credentials } from "../distribution/credentials.ts";
import { parseManifest, isLayerMediaType, type Descriptor, type ImageConfig, type ImageManifest } from "../distribution/manifest.ts";
import { formatPlatform, hostPlatform, normalizePlatform, parsePlatform, selectPlatform, type Platform } from "../distribution/platform.ts";
import { familiarString, parseUserRef, refString, repoName, type Reference } from "../distribution/reference.ts";
import { ConnectionError, type Repository } from "../distribution/registry-client.ts";
import type { JobContext } from "../job.ts";
import type { AppliedLayer, ImageDeps } from "./deps.ts";
import { LayerSource } from "./layer-source.ts";
import { progress, shortId, status, type ProgressMessage } from "./progress.ts";
import { deferred, Semaphore, SingleFlight, type Deferred } from "./singleflight.ts";
import type { ImageRecord } from "../../store/image-store.ts";

export interface PullArgs {
  ref: string;
  /** os/arch[/variant]; default: the machine's. */
  platform?: string;
  /** Credentials from X-Registry-Auth; default: config.json lookup. */
  auth?: Credentials | null;
}

export interface PullResult {
  image: ImageRecord;
  /** Digest of what the reference pointed at (index or manifest). */
  digest: string;
  /** False when the reference already named this image. */
  updated: boolean;
}

/** A layer being fetched and applied, shared by concurrent pulls of the same chain. */
interface LayerFlight {
  /** Resolves once LayerStore.apply was called (vfs children may then be applied). */
  applyCalled: Deferred;
  done: Promise<AppliedLayer>;
}

type Emit = (m: ProgressMessage) => void;

const noop = () => {};

export class Puller {
  private readonly flights = new SingleFlight<LayerFlight>();

  constructor(private readonly d: ImageDeps) {}

  /**
   * `ctx.ready()` (when given) is called once the manifest resolved, like
   * dockerd whose first progress write commits the 200: an unknown tag is
   * still a proper 404.
   */
  async pull(ctx: (Pick<JobContext, "stdout" | "setProgress"> & { ready?: () => void }) | null, args: PullArgs): Promise<PullResult> {
    const emit: Emit = ctx ? (m) => ctx.stdout.write(m) : noop;
    const setProgress = ctx ? (s: string) => ctx.setProgress(s) : noop;
    const ref = parseUserRef(args.ref);
    const want = args.platform ? parsePlatform(args.platform) : (this.d.platform ?? hostPlatform());
    const repo = this.d.registry.repository(ref, { creds: args.auth });
    setProgress("resolving manifest");
    const top = await repo.getManifest(ref.digest ?? ref.tag!);
    ctx?.ready?.();
    // moby's pullV2Tag says this after the manifest is fetched.
    emit(status(`Pulling from ${ref.path}`, ref.digest ?? ref.tag!));
    const parsed = parseManifest(top.bytes, top.mediaType);
    let manifestBytes = top.bytes;
    let manifestDigest = top.digest;
    let manifest: ImageManifest;
    if (parsed.kind === "index") {
      const desc = selectPlatform(parsed.index.manifests, want);
      if (!desc) throw new NotFoundError(`no matching manifest for ${formatPlatform(want)} in the manifest list entries`);
      const m = await repo.getManifest(desc.digest);
      const p2 = parseManifest(m.bytes, m.mediaType);
      if (p2.kind !== "manifest") throw new InvalidParameterError(`manifest ${desc.digest} in the index is itself an index`);
      manifest = p2.manifest;
      manifestBytes = m.bytes;
      manifestDigest = m.digest;
    } else manifest = parsed.manifest;

    const { config, stored } = await this.fetchConfig(repo, manifest.config);
    stored.catch(() => {}); // awaited below; a failure before then must not go unhandled
    if (args.platform && parsed.kind === "manifest") checkPlatform(config, want, ref);
    const layers = manifest.layers.filter((l) => !l.urls?.length || isLayerMediaType(l.mediaType));
    const diffIds = config.rootfs?.diff_ids ?? [];
    if (diffIds.length !== layers.length) {
      throw new InvalidParameterError(`image config lists ${diffIds.length} diff ids for ${layers.length} layers`);
    }
    for (const l of layers) {
      if (!isLayerMediaType(l.mediaType)) throw new InvalidParameterError(`unsupported layer media type ${l.mediaType} (${l.digest})`);
    }
    const chainIds = chainIdsOf(diffIds);

    setProgress(`fetching ${layers.length} layers`);
    const applied = await this.fetchLayers(repo, layers, diffIds, chainIds, emit);

    // Manifests are stored so push can send the same bytes (same digest).
    await Promise.all([
      stored,
      this.d.content.writeBytesAsync(manifestBytes, manifestDigest),
      top.digest !== manifestDigest ? this.d.content.writeBytesAsync(top.bytes, top.digest) : null,
    ]);

    const name = repoName(ref);
    const prev = ref.tag ? this.d.images.byRef(`${name}:${ref.tag}`) : this.d.images.byRef(`${name}@${top.digest}`);
    const refs: { name: string; kind: "tag" | "digest" }[] = [{ name: `${name}@${top.digest}`, kind: "digest" }];
    if (ref.tag) refs.push({ name: `${name}:${ref.tag}`, kind: "tag" });
    const { image } = this.d.images.add(
      {
        id: manifest.config.digest,
        config: new TextDecoder().decode(this.d.content.readBytes(manifest.config.digest)),
        chainIds,
        manifestDigest,
        size: applied.reduce((n, l) => n + l.size, 0),
        created: config.created ? Math.floor(Date.parse(config.created) / 1000) || 0 : 0,
      },
      refs,
    );
    const updated = prev?.id !== image.id;
    emit(status(`Digest: ${top.digest}`));
    emit(status(`Status: ${updated ? "Downloaded newer image" : "Image is up to date"} for ${familiarString(ref)}`));
    setProgress("done");
    return { image, digest: top.digest, updated };
  }

  /**
   * The config, read from the fetched bytes; `stored` settles once it is in the store (its
   * write and fsync run off the loop meanwhile: the layers need not wait for them).
   */
  private async fetchConfig(repo: Repository, desc: Descriptor): Promise<{ config: ImageConfig; stored: Promise<unknown> }> {
    if (this.d.content.has(desc.digest)) return { config: this.d.content.readJson<ImageConfig>(desc.digest), stored: Promise.resolve() };
    const bytes = await repo.blobBytes(desc.digest, desc.size);
    const stored = this.d.content.writeBytesAsync(bytes, desc.digest); // throws now on a wrong digest
    try {
      return { config: JSON.parse(new TextDecoder().decode(bytes)) as ImageConfig, stored };
    } catch (e) {
      await stored.catch(() => {});
      throw e;
    }
  }

  /** Up to N layers at a time; applies are started in chain order (vfs needs the parent first). */
  private async fetchLayers(repo: Repository, layers: Descriptor[], diffIds: string[], chainIds: string[], emit: Emit): Promise<AppliedLayer[]> {
    const sem = new Semaphore(this.d.maxConcurrentDownloads ?? 3);
    const started = layers.map(() => deferred());
    for (const l of layers) emit(status("Pulling fs layer", shortId(l.digest)));
    const tasks = layers.map(async (desc, i) => {
      const chainId = chainIds[i]!;
      const parent = i === 0 ? null : chainIds[i - 1]!;
      const have = this.d.layers.get(chainId);
      if (have) {
        started[i]!.resolve();
        emit(status("Already exists", shortId(desc.digest)));
        return have;
      }
      const { handle } = this.flights.do(
        chainId,
        () => {
          const applyCalled = deferred();
          const done = (async () => {
            const release = await sem.acquire();
            try {
              return await this.fetchLayer(repo, desc, diffIds[i]!, parent, async () => {
                if (i > 0) await started[i - 1]!.promise;
              }, applyCalled, emit, release);
            } finally {
              release();
            }
          })();
          done.catch((e) => applyCalled.reject(e));
          return { applyCalled, done };
        },
        (h) => h.done,
      );
      handle.applyCalled.promise.then(() => started[i]!.resolve(), (e) => started[i]!.reject(e));
      const rec = await handle.done;
      return rec;
    });
    const results = await Promise.allSettled(tasks);
    const failed = results.find((r) => r.status === "rejected");
    if (failed) throw (failed as PromiseRejectedResult).reason;
    return results.map((r) => (r as PromiseFulfilledResult<AppliedLayer>).value);
  }

  private async fetchLayer(
    repo: Repository,
    desc: Descriptor,
    diffId: string,
    parentChainId: string | null,
    beforeApply: () => Promise<void>,
    applyCalled: Deferred,
    emit: Emit,
    /** The download and extraction are done: the next layer may start while the blob is made durable. */
    downloaded: () => void,
  ): Promise<AppliedLayer> {
    const id = shortId(desc.digest);
    const content = this.d.content;
    let ingest: Ingest | null = null;
    let network: AsyncIterable<Uint8Array>;
    const fromRegistry = !content.has(desc.digest);
    if (!fromRegistry) {
      network = content.open(desc.digest) as unknown as AsyncIterable<Uint8Array>;
    } else {
      ingest = content.ingest(desc.digest, desc.size);
      network = repo.blob(desc.digest, desc.size, ingest.offset);
    }
    let last = 0;
    const src = new LayerSource(ingest, network, (n) => {
      const now = Date.now();
      if (now - last < 100 && n < desc.size) return;
      last = now;
      emit(progress("Downloading", id, n, desc.size));
    }, fromRegistry);
    try {
      await beforeApply();
      const applying = this.d.layers.apply({ diffId, parentChainId }, decompressStream(src));
      applyCalled.resolve();
      const rec = await applying;
      await src.drain();
      // The blob's fsync (commit) takes 20-50 ms here and is no download: a layer waiting
      // for a slot starts now instead (the fourth of four layers started that much later).
      downloaded();
      emit(status("Verifying Checksum", id));
      emit(status("Download complete", id));
      emit(progress("Extracting", id, desc.size, desc.size));
      await ingest?.commit();
      this.d.images.recordLayerBlob({ digest: desc.digest, diffId, mediaType: desc.mediaType, size: desc.size, source: repoName(repo.ref) });
      emit(status("Pull complete", id));
      return rec;
    } catch (e) {
      let err = e;
      // Bad bytes usually break gunzip or the tar before the digest check at the
      // end: read the rest so the error names the blob like Docker's does.
      if (!src.networkError && !(e instanceof DigestMismatchError)) {
        try {
          await src.drain();
        } catch (e2) {
          if (e2 instanceof DigestMismatchError) err = e2;
        }
      }
      await src.close().catch(() => {});
      // Only a cut download is kept (for a Range resume); anything else is not trusted.
      await ingest?.abort(src.networkError instanceof ConnectionError);
      throw err;
    }
  }
}

/** A single-platform image pulled with --platform must match it (Docker 20.10+). */
function checkPlatform(config: ImageConfig, want: Platform, ref: Reference): void {
  const have = normalizePlatform({ os: config.os, architecture: config.architecture, variant: config.variant });
  const w = normalizePlatform(want);
  if (have.os !== w.os || have.architecture !== w.architecture || (w.variant && have.variant && w.variant !== have.variant)) {
    throw new NotFoundError(
      `image with reference ${refString(ref)} was found but does not match the specified platform: wanted ${formatPlatform(w)}, actual: ${formatPlatform(have)}`,
    );
  }
}
