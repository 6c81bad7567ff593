// `ctr load` / POST /images/load: a docker-archive (old `docker save` with
// <id>/layer.tar, or docker 25's blobs/sha256) or an OCI image layout tar,
// plain or compressed. The archive is unpacked into a private temp dir
// (regular files and dirs only, names checked), then each image's layers go
// through the layer store — the same safe extraction as a pull — and must
// hash to the config's diff_ids. An image is recorded only when all of it
// is in; a bad archive leaves nothing but the temp dir, which is removed.
import { existsSync, linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync, createWriteStream } from "node:fs";
import { dirname, join, posix } from "node:path";
import { pipeline } from "node:stream/promises";
import { Readable } from "node:stream";
import { extract as tarExtract } from "tar-stream";
import type { ContentStore } from "../../store/content-store.ts";
import type { ImageStore } from "../../store/image-store.ts";
import type { LayerStore } from "../../store/layers/layer-store.ts";
import { decompressStream } from "../../store/tar/decompress.ts";
import { iterate, toReadable, type ByteSource } from "../../store/tar/byte-source.ts";
import { chainIdOf } from "../../store/layers/chain-id.ts";
import type { ImageConfig } from "../distribution/manifest.ts";
import { familiarize } from "../distribution/reference.ts";
import { InvalidParameterError } from "../errors.ts";
import { ingestLayerTar } from "./layer-ingest.ts";
import { tagReference } from "./new-image.ts";

export interface LoadDeps {
  content: ContentStore;
  layers: LayerStore;
  images: ImageStore;
  tmpDir: string;
}

/** One image found in the archive: its config file, layer files bottom first, its tags. */
interface ArchiveImage {
  config: string;
  layers: string[];
  tags: string[];
}

export async function loadImages(d: LoadDeps, tar: ByteSource, say: (line: string) => void): Promise<void> {
  const dir = mkdtempSync(join(d.tmpDir, "load-"));
  try {
    await unpack(tar, dir);
    const images = existsSync(join(dir, "manifest.json")) ? dockerArchive(dir) : ociLayout(dir);
    if (!images.length) throw new InvalidParameterError("no images in the archive");
    for (const img of images) {
      const id = await loadOne(d, dir, img);
      if (img.tags.length) for (const t of img.tags) say(`Loaded image: ${familiarize(t)}\n`);
      else say(`Loaded image ID: ${id}\n`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function loadOne(d: LoadDeps, dir: string, img: ArchiveImage): Promise<string> {
  const configBytes = readFileSync(inside(dir, img.config));
  let config: ImageConfig;
  try {
    config = JSON.parse(new TextDecoder().decode(configBytes)) as ImageConfig;
  } catch {
    throw new InvalidParameterError(`invalid image config ${img.config} in the archive`);
  }
  const diffIds = config.rootfs?.diff_ids ?? [];
  if (diffIds.length !== img.layers.length) throw new InvalidParameterError(`the archive lists ${img.layers.length} layers but the config has ${diffIds.length}`);
  let parent: string | null = null;
  const chainIds: string[] = [];
  let size = 0;
  for (const [i, file] of img.layers.entries()) {
    const want = diffIds[i]!;
    const chainId = chainIdOf(parent, want);
    const have = d.layers.get(chainId);
    if (have) {
      size += have.size;
    } else {
      const got = await ingestLayerTar(d, toReadable(decompressStream(Bun.file(inside(dir, file)).stream())), parent);
      if (got.diffId !== want) throw new InvalidParameterError(`layer ${file} does not match diffID ${want} (got ${got.diffId})`);
      size += got.layer.size;
    }
    chainIds.push(chainId);
    parent = chainId;
  }
  const id = d.content.writeBytes(configBytes);
  d.images.add(
    {
      id,
      config: new TextDecoder().decode(configBytes),
      chainIds,
      manifestDigest: null,
      size,
      created: config.created ? Math.floor(Date.parse(config.created) / 1000) || 0 : 0,
    },
    img.tags.map((t) => ({ name: tagReference(t), kind: "tag" as const })),
  );
  return id;
}

function dockerArchive(dir: string): ArchiveImage[] {
  const list = readJson<{ Config: string; RepoTags?: string[] | null; Layers: string[] }[]>(dir, "manifest.json");
  if (!Array.isArray(list)) throw new InvalidParameterError("manifest.json is not a list");
  return list.map((m) => ({ config: m.Config, layers: m.Layers ?? [], tags: m.RepoTags ?? [] }));
}

function ociLayout(dir: string): ArchiveImage[] {
  if (!existsSync(join(dir, "index.json"))) throw new InvalidParameterError("not an image archive: no manifest.json or index.json");
  const blob = (digest: string) => `blobs/${digest.replace(":", "/")}`;
  const out: ArchiveImage[] = [];
  const visit = (desc: { digest: string; mediaType?: string; annotations?: Record<string, string> }, name?: string) => {
    const m = readJson<{ manifests?: typeof desc[]; config?: { digest: string }; layers?: { digest: string }[] }>(dir, blob(desc.digest));
    if (m.manifests) {
      // A nested index (multi-platform): the first manifest stands for it.
      if (m.manifests[0]) visit(m.manifests[0], name);
      return;
    }
    if (!m.config) throw new InvalidParameterError(`manifest ${desc.digest} has no config`);
    out.push({ config: blob(m.config.digest), layers: (m.layers ?? []).map((l) => blob(l.digest)), tags: name ? [name] : [] });
  };
  const index = readJson<{ manifests?: { digest: string; annotations?: Record<string, string> }[] }>(dir, "index.json");
  for (const desc of index.manifests ?? []) {
    const a = desc.annotations ?? {};
    visit(desc, a["io.containerd.image.name"] ?? (a["org.opencontainers.image.ref.name"]?.includes(":") ? a["org.opencontainers.image.ref.name"] : undefined));
  }
  // Docker's save lists one descriptor per tag of the same manifest: merge them.
  const byConfig = new Map<string, ArchiveImage>();
  for (const i of out) {
    const prev = byConfig.get(i.config);
    if (prev) prev.tags.push(...i.tags);
    else byConfig.set(i.config, i);
  }
  return [...byConfig.values()];
}

function readJson<T>(dir: string, name: string): T {
  try {
    return JSON.parse(readFileSync(inside(dir, name), "utf8")) as T;
  } catch (e) {
    if (e instanceof InvalidParameterError) throw e;
    throw new InvalidParameterError(`cannot read ${name} from the archive: ${(e as Error).message}`);
  }
}

/** A path named by the archive, kept inside its directory. */
function inside(dir: string, name: string): string {
  const n = posix.normalize(name);
  if (n.startsWith("/") || n === ".." || n.startsWith("../")) throw new InvalidParameterError(`archive path ${JSON.stringify(name)} points outside the archive`);
  return join(dir, n);
}

/** Unpacks regular files and directories; anything else (links, devices) has no place in an image archive. */
async function unpack(src: ByteSource, dir: string): Promise<void> {
  const ex = tarExtract();
  const links: { target: string; source: string }[] = [];
  const done = new Promise<void>((resolve, reject) => {
    ex.on("entry", (h, stream, next) => {
      const fail = (e: unknown) => {
        stream.resume();
        reject(e);
        ex.destroy();
      };
      let target: string;
      try {
        target = inside(dir, h.name);
      } catch (e) {
        return fail(e);
      }
      if (h.type === "directory") {
        mkdirSync(target, { recursive: true });
        stream.resume();
        return next();
      }
      if (h.type === "symlink" && h.linkname) {
        // Old `docker save` links a shared layer.tar to its first copy: made a hard link below, inside dir only.
        try {
          links.push({ target, source: inside(dir, posix.join(posix.dirname(h.name), h.linkname)) });
        } catch (e) {
          return fail(e);
        }
      }
      if (h.type !== "file" && h.type !== "contiguous-file") {
        stream.resume();
        return next();
      }
      mkdirSync(dirname(target), { recursive: true });
      pipeline(stream, createWriteStream(target)).then(() => next(), fail);
    });
    ex.on("finish", resolve);
    ex.on("error", reject);
  });
  const input = Readable.from(iterate(decompressStream(src)));
  input.on("error", (e) => ex.destroy(e));
  input.pipe(ex);
  await done;
  for (const l of links) {
    if (!existsSync(l.source)) continue;
    mkdirSync(dirname(l.target), { recursive: true });
    linkSync(l.source, l.target);
  }
}
