// The local image verbs: resolve, list, inspect, history, tag, rmi, prune,
// tree. Shapes are Docker Engine API ones (ImageSummary, ImageInspect,
// HistoryResponseItem, ImageDeleteResponseItem); names shown are familiar.
import { ConflictError, InvalidParameterError, NotFoundError } from "../errors.ts";
import type { ImageConfig } from "../distribution/manifest.ts";
import { familiarize, isTag, parseNormalized, refString, repoName, withDefaultTag } from "../distribution/reference.ts";
import type { ImageRecord } from "../../store/image-store.ts";
import type { ImageDeps } from "./deps.ts";
import { matchesLabels } from "../filters.ts";
import { containerConfigView } from "./config-view.ts";

export interface ImageSummary {
  Id: string;
  ParentId: string;
  RepoTags: string[];
  RepoDigests: string[];
  Created: number;
  Size: number;
  SharedSize: number;
  VirtualSize: number;
  Labels: Record<string, string> | null;
  Containers: number;
}

export interface DeleteItem {
  Untagged?: string;
  Deleted?: string;
}

export interface TreeImage {
  Id: string;
  RepoTags: string[];
  Layers: { ChainID: string; Size: number; SharedWith: number }[];
  UniqueSize: number;
  SharedSize: number;
}

export type Filters = Record<string, string[]>;

const shortHex = (id: string) => id.replace(/^sha256:/, "").slice(0, 12);

/** Glob as Docker's reference filter (path.Match): * and ? within a path segment. */
function globMatch(pattern: string, s: string): boolean {
  const re = pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, "[^/]*").replace(/\?/g, "[^/]");
  return new RegExp(`^${re}$`).test(s);
}

export class ImageService {
  constructor(private readonly d: ImageDeps) {}

  /**
   * What the user typed → an image: a full id, a reference (busybox,
   * busybox:1, host:5000/x@sha256:…), or an id prefix (Docker's GetImage order).
   */
  resolve(s: string): ImageRecord {
    const img = this.find(s);
    if (!img) throw new NotFoundError(`No such image: ${s}`);
    return img;
  }

  find(s: string): ImageRecord | null {
    const st = this.d.images;
    if (/^sha256:[a-f0-9]{64}$/.test(s)) return st.get(s);
    try {
      const ref = withDefaultTag(parseNormalized(s));
      const byRef = st.byRef(refString(ref)) ?? (ref.digest ? st.byRef(`${repoName(ref)}@${ref.digest}`) : null);
      if (byRef) return byRef;
    } catch {
      // not a reference; maybe an id prefix
    }
    if (/^(sha256:)?[a-f0-9]{1,64}$/.test(s)) {
      const hits = st.byIdPrefix(s);
      if (hits.length > 1) throw new InvalidParameterError(`ambiguous image id ${s}: ${hits.length} images match`);
      return hits[0] ?? null;
    }
    return null;
  }

  private refs(img: ImageRecord): { tags: string[]; digests: string[] } {
    const rs = this.d.images.refsOf(img.id);
    return {
      tags: rs.filter((r) => r.kind === "tag").map((r) => familiarize(r.name)),
      digests: rs.filter((r) => r.kind === "digest").map((r) => familiarize(r.name)),
    };
  }

  private config(img: ImageRecord): ImageConfig {
    return JSON.parse(img.config) as ImageConfig;
  }

  summary(img: ImageRecord, sharedSize = -1): ImageSummary {
    const { tags, digests } = this.refs(img);
    const cfg = this.config(img);
    return {
      Id: img.id,
      ParentId: img.parent ?? "",
      RepoTags: tags,
      RepoDigests: digests,
      Created: img.created,
      Size: img.size,
      SharedSize: sharedSize,
      VirtualSize: img.size,
      Labels: ((cfg.config as { Labels?: Record<string, string> } | undefined)?.Labels ?? null) || null,
      Containers: -1,
    };
  }

  /** GET /images/json: filters dangling, reference, label, before, since. */
  list(filters: Filters = {}, opts: { sharedSize?: boolean; all?: boolean } = {}): ImageSummary[] {
    let imgs = this.d.images.list();
    // Untagged images with children are a build's intermediate steps: dockerd lists them only with all=1.
    if (!opts.all) imgs = imgs.filter((i) => this.d.images.refsOf(i.id).length > 0 || this.d.images.children(i.id).length === 0);
    const dangling = filters.dangling?.[0];
    if (dangling !== undefined) {
      const want = dangling === "true" || dangling === "1";
      imgs = imgs.filter((i) => !this.d.images.refsOf(i.id).some((r) => r.kind === "tag") === want);
    }
    for (const b of filters.before ?? []) {
      const ref = this.resolve(b);
      imgs = imgs.filter((i) => i.created < ref.created);
    }
    for (const s of filters.since ?? []) {
      const ref = this.resolve(s);
      imgs = imgs.filter((i) => i.created > ref.created);
    }
    let out = imgs.map((i) => this.summary(i, opts.sharedSize ? this.d.images.usage(i.id).sharedSize : -1));
    const refFilters = filters.reference ?? [];
    if (refFilters.length) {
      out = out
        .map((s) => {
          const tags = s.RepoTags.filter((t) => refFilters.some((p) => globMatch(p, t) || globMatch(p, t.slice(0, t.lastIndexOf(":")))));
          return tags.length ? { ...s, RepoTags: tags } : null;
        })
        .filter((s): s is ImageSummary => s !== null);
    }
    if (filters.label?.length) out = out.filter((s) => matchesLabels(s.Labels, filters.label));
    return out;
  }

  /** GET /images/{name}/json */
  inspect(s: string): Record<string, unknown> {
    const img = this.find(s);
    // dockerd's inspect words it twice: what was asked, then the reference it looked for.
    if (!img) throw new NotFoundError(`no such image: ${s}: No such image: ${lookedFor(s)}`);
    const cfg = this.config(img);
    const { tags, digests } = this.refs(img);
    const driver = (this.d.layers as { driver?: { name: string; diffPath(id: string): string } }).driver;
    return {
      Id: img.id,
      RepoTags: tags,
      RepoDigests: digests,
      Parent: img.parent ?? "",
      Comment: (cfg.comment as string | undefined) ?? "",
      Created: cfg.created ?? new Date(img.created * 1000).toISOString(),
      // dockerd ≤ 24 shows the committing container's config (builder images) or a zero one;
      // Compose 1.29 reads ContainerConfig.Volumes on every recreate and fails without it.
      Container: ((cfg as { container?: string }).container as string | undefined) ?? "",
      ContainerConfig: (cfg as { container_config?: unknown }).container_config ?? EMPTY_CONTAINER_CONFIG,
      DockerVersion: (cfg.docker_version as string | undefined) ?? "",
      Author: cfg.author ?? "",
      Config: containerConfigView(cfg.config as Record<string, unknown> | undefined),
      Architecture: cfg.architecture,
      ...(cfg.variant ? { Variant: cfg.variant } : {}),
      Os: cfg.os,
      Size: img.size,
      VirtualSize: img.size,
      GraphDriver: { Name: driver?.name ?? "", Data: null },
      RootFS: { Type: cfg.rootfs?.type ?? "layers", Layers: cfg.rootfs?.diff_ids ?? [] },
      Metadata: { LastTagTime: "0001-01-01T00:00:00Z" },
    };
  }

  /** GET /images/{name}/history: newest first; only the top entry carries the id and tags. */
  history(s: string): { Id: string; Created: number; CreatedBy: string; Tags: string[] | null; Size: number; Comment: string }[] {
    const img = this.resolve(s);
    const cfg = this.config(img);
    const sizes = img.chainIds.map((c) => this.d.layers.get(c)?.size ?? 0);
    const hist = cfg.history?.length ? cfg.history : (cfg.rootfs?.diff_ids ?? []).map(() => ({}) as NonNullable<ImageConfig["history"]>[number]);
    let li = 0;
    const rows = hist.map((h) => ({
      Id: "<missing>",
      Created: h.created ? Math.floor(Date.parse(h.created) / 1000) : 0,
      CreatedBy: h.created_by ?? "",
      Tags: null as string[] | null,
      Size: h.empty_layer ? 0 : (sizes[li++] ?? 0),
      Comment: h.comment ?? "",
    }));
    rows.reverse();
    if (rows[0]) {
      rows[0].Id = img.id;
      const tags = this.refs(img).tags;
      rows[0].Tags = tags.length ? tags : null;
    }
    return rows;
  }

  /** POST /images/{name}/tag?repo=&tag= */
  tag(source: string, repo: string, tag = "latest"): void {
    const img = this.resolve(source);
    if (!isTag(tag)) throw new InvalidParameterError(`invalid tag format`);
    const ref = parseNormalized(repo);
    if (ref.tag || ref.digest) throw new InvalidParameterError(`invalid reference format: repository name must not carry a tag or digest`);
    this.d.images.setRef(refString({ ...ref, tag }), img.id, "tag");
  }

  /** DELETE /images/{name}: untag, and delete the image once nothing names it (Docker's ImageDelete). */
  async remove(s: string, force = false, noprune = false): Promise<DeleteItem[]> {
    const img = this.resolve(s);
    const st = this.d.images;
    const out: DeleteItem[] = [];
    const refs = st.refsOf(img.id);
    const user = userRef(s);
    const named = user ? refs.find((r) => r.name === user) : undefined;
    const inUse = this.d.imageInUse?.(img.id) ?? null;
    if (named) {
      const tags = refs.filter((r) => r.kind === "tag");
      // Untag only while other tags (or a container) still hold the image.
      st.removeRef(named.name);
      out.push({ Untagged: familiarize(named.name) });
      if (tags.length > 1 || (named.kind === "digest" && tags.length > 0)) return out;
      if (inUse) return out;
      for (const r of st.refsOf(img.id)) {
        st.removeRef(r.name);
        out.push({ Untagged: familiarize(r.name) });
      }
    } else {
      const repos = new Set(refs.map((r) => repoName(parseNormalizedSafe(r.name))));
      if (repos.size > 1 && !force) {
        throw new ConflictError(`conflict: unable to delete ${shortHex(img.id)} (must be forced) - image is referenced in multiple repositories`);
      }
      // dockerd's checkImageDeleteConflict: a running container is a hard conflict even with force
      // (Nomad's image GC counts on the 409), a stopped one a soft conflict that force overrides.
      const running = this.d.imageRunningIn?.(img.id) ?? null;
      if (running) {
        throw new ConflictError(`conflict: unable to delete ${shortHex(img.id)} (cannot be forced) - image is being used by running container ${shortHex(running)}`);
      }
      if (inUse && !force) {
        throw new ConflictError(`conflict: unable to delete ${shortHex(img.id)} (must be forced) - image is being used by stopped container ${shortHex(inUse)}`);
      }
      for (const r of refs) {
        st.removeRef(r.name);
        out.push({ Untagged: familiarize(r.name) });
      }
      if (inUse) return out;
    }
    if (st.children(img.id).length && !force) {
      throw new ConflictError(`conflict: unable to delete ${shortHex(img.id)} (cannot be forced) - image has dependent child images`);
    }
    out.push(...(await this.deleteImage(img, noprune)));
    return out;
  }

  private async deleteImage(img: ImageRecord, noprune: boolean): Promise<DeleteItem[]> {
    const out: DeleteItem[] = [{ Deleted: img.id }];
    const manifest = img.manifestDigest;
    const { unusedLayers } = this.d.images.delete(img.id);
    if (!this.d.images.byIdPrefix(img.id).length) this.d.content.delete(img.id);
    if (manifest && !this.d.images.list().some((i) => i.manifestDigest === manifest)) this.d.content.delete(manifest);
    if (noprune || !this.d.layers.remove) return out;
    for (const chainId of unusedLayers) {
      const rec = this.d.layers.get(chainId);
      try {
        await this.d.layers.remove(chainId);
      } catch (e) {
        if (e instanceof ConflictError) continue; // a child layer or a container still uses it
        throw e;
      }
      out.push({ Deleted: chainId });
      // The compressed blob goes with the last layer of its diff.
      if (rec && !this.d.images.diffInUse(rec.diffId)) {
        for (const b of this.d.images.blobsForDiff(rec.diffId)) this.d.content.delete(b.digest);
      }
    }
    return out;
  }

  /** POST /images/prune: dangling images (all unused with dangling=false), not used by containers. */
  async prune(filters: Filters = {}): Promise<{ ImagesDeleted: DeleteItem[] | null; SpaceReclaimed: number }> {
    const all = filters.dangling?.[0] === "false" || filters.dangling?.[0] === "0";
    const deleted: DeleteItem[] = [];
    let reclaimed = 0;
    for (const img of this.d.images.list()) {
      if (this.d.imageInUse?.(img.id)) continue;
      const refs = this.d.images.refsOf(img.id);
      if (!all && refs.some((r) => r.kind === "tag")) continue;
      if (this.d.images.children(img.id).length) continue;
      const unique = this.d.images.usage(img.id).uniqueSize;
      for (const r of refs) {
        this.d.images.removeRef(r.name);
        deleted.push({ Untagged: familiarize(r.name) });
      }
      deleted.push(...(await this.deleteImage(img, false)));
      reclaimed += unique;
    }
    return { ImagesDeleted: deleted.length ? deleted : null, SpaceReclaimed: reclaimed };
  }

  /** GET /images/tree: each image's chain with shared layers marked. */
  tree(filters: Filters = {}): TreeImage[] {
    return this.list(filters).map((s) => {
      const u = this.d.images.usage(s.Id);
      return {
        Id: s.Id,
        RepoTags: s.RepoTags,
        Layers: u.layers.map((l) => ({ ChainID: l.chainId, Size: l.size, SharedWith: l.sharedWith })),
        UniqueSize: u.uniqueSize,
        SharedSize: u.sharedSize,
      };
    });
  }

  /** For `system df`: every image with its shared size. */
  diskUsage(): ImageSummary[] {
    return this.list({}, { sharedSize: true, all: true });
  }
}

/** The normalised reference a user string names, or null for ids. */
function userRef(s: string): string | null {
  try {
    return refString(withDefaultTag(parseNormalized(s)));
  } catch {
    return null;
  }
}

function parseNormalizedSafe(name: string) {
  try {
    return parseNormalized(name);
  } catch {
    return { domain: "", path: name };
  }
}

/** dockerd's ContainerConfig of an image no container committed (a zero container.Config). */
const EMPTY_CONTAINER_CONFIG = {
  Hostname: "", Domainname: "", User: "", AttachStdin: false, AttachStdout: false, AttachStderr: false, Tty: false,
  OpenStdin: false, StdinOnce: false, Env: null, Cmd: null, Image: "", Volumes: null, WorkingDir: "", Entrypoint: null,
  OnBuild: null, Labels: null,
};

/** The familiar reference with its default tag (nope → nope:latest), or the string as typed. */
function lookedFor(s: string): string {
  try {
    return familiarize(refString(withDefaultTag(parseNormalized(s))));
  } catch {
    return s;
  }
}
