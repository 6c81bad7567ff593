// overlay2 the way Docker lays it out (daemon/graphdriver/overlay2): each
// layer has its own diff dir and a short link l/<ID> -> ../<id>/diff, so a
// long chain of lowerdirs fits in the one page the kernel allows for mount
// data. Applying a layer only needs its own diff, so layers of one image can
// be extracted in parallel, before their parents exist.
import { existsSync, mkdirSync, readlinkSync, renameSync, readdirSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { basename, dirname, join, resolve } from "node:path";
import { extractLayer } from "../tar/extract.ts";
import type { ByteSource } from "../tar/byte-source.ts";
import type { ApplyOptions, Change, LayerDriver, MountSpec, RwMountOptions } from "./driver.ts";
import { checkId, LayerDirs } from "./layer-dirs.ts";
import { buildMountpointLayer } from "./mountpoint-layer.ts";
import { changesSize, overlayChanges } from "./changes.ts";
import { overlayDiffTar } from "./diff-tar.ts";
import { lstatOrNull } from "../tar/safe-path.ts";

/** The kernel copies mount data into one page (fs/namespace.c copy_mount_options). */
const PAGE_SIZE = 4096;
const LINK_DIR = "l";
/** What a volatile mount leaves in its workdir's work/ (fs/overlayfs/super.c ovl_make_workdir). */
const VOLATILE_MARK = "incompat/volatile";
/** Beside a layer's diff/: the mount targets its containers need (mountpoint-layer.ts). */
const MOUNTPOINTS_DIR = "mountpoints";

function shortId(): string {
  // Docker: 26 chars of base32 from 16 random bytes.
  const A = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  return [...randomBytes(26)].map((b) => A[b & 31]).join("");
}

export class Overlay2Driver implements LayerDriver {
  readonly name = "overlay2" as const;
  readonly needsParent = false;
  private readonly dirs: LayerDirs;
  private readonly links: string;

  readonly home: string;

  constructor(home: string) {
    this.home = resolve(home);
    this.dirs = new LayerDirs(this.home);
    this.links = join(home, LINK_DIR);
    mkdirSync(this.links, { recursive: true, mode: 0o700 });
  }

  async create(id: string, _parent: string | null): Promise<void> {
    await this.dirs.atomically(id, async (dir) => {
      this.prepare(id, dir);
    });
  }

  async applyTar(id: string, _parent: string | null, tar: ByteSource, opts: ApplyOptions = {}) {
    return this.dirs.atomically(id, async (dir) => {
      const diff = this.prepare(id, dir);
      return extractLayer(tar, diff, { whiteouts: "overlay", expectedDiffId: opts.diffId });
    });
  }

  /** diff/ and the short link; the link dangles until the rename makes <home>/<id>. */
  private prepare(id: string, dir: string): string {
    const diff = join(dir, "diff");
    mkdirSync(diff, 0o755);
    const link = shortId();
    writeFileSync(join(dir, "link"), link);
    symlinkSync(`../${id}/diff`, join(this.links, link));
    return diff;
  }

  diffPath(id: string): string {
    return this.dirs.diff(id);
  }
  exists(id: string): boolean {
    return existsSync(this.dirs.diff(id));
  }

  async remove(id: string): Promise<void> {
    const dir = this.dirs.layer(id);
    const link = lstatOrNull(join(dir, "link")) ? readFileSync(join(dir, "link"), "utf8").trim() : "";
    if (link) rmSync(join(this.links, link), { force: true });
    rmSync(dir, { recursive: true, force: true });
  }

  layerIds(): string[] {
    return this.dirs.layerIds();
  }

  cleanupTemp(): void {
    this.dirs.clearTmp();
    for (const n of readdirSync(this.links)) {
      const p = join(this.links, n);
      if (!existsSync(p)) unlinkSync(p); // dangling: its layer never completed
    }
  }

  private linkOf(id: string): string {
    return readFileSync(join(this.dirs.layer(id), "link"), "utf8").trim();
  }

  async createRw(containerId: string, lowers: readonly string[]): Promise<MountSpec> {
    const dir = this.dirs.rwDir(containerId);
    // One made ahead if there is one (LayerDirs.takeSpareRw); its empty `lower` is written in place.
    const spare = this.dirs.takeSpareRw();
    const tmp = spare ?? `${dir}.tmp`;
    if (!spare) {
      rmSync(tmp, { recursive: true, force: true });
      mkdirSync(join(tmp, "upper"), { recursive: true, mode: 0o755 });
      mkdirSync(join(tmp, "work"), 0o700);
    }
    try {
      let lower = lowers.map((id) => `${LINK_DIR}/${this.linkOf(id)}`);
      if (lower.length === 0) {
        // overlayfs needs at least one lowerdir: an image with no layers gets an empty one.
        mkdirSync(join(tmp, "empty"), 0o755);
        lower = [`rw/${containerId}/empty`];
      }
      writeFileSync(join(tmp, "lower"), lower.join(":"));
      renameSync(tmp, dir);
    } catch (e) {
      // A lower without its link file, the rw dir already there: the one taken goes, and the pool refills.
      rmSync(tmp, { recursive: true, force: true });
      throw e;
    } finally {
      this.dirs.refillSpareRw();
    }
    return this.rwMount(containerId);
  }

  rwMount(containerId: string, o: RwMountOptions = {}): MountSpec {
    const dir = this.dirs.requireRw(containerId);
    const lower = readFileSync(join(dir, "lower"), "utf8").split(":");
    // A volatile mount leaves work/incompat/volatile behind, and overlayfs refuses the
    // next mount of the same upper while it is there (EINVAL): a restart of an --rm
    // container, a cp into it. Its contents are as good as any unsynced write's.
    rmSync(join(dir, "work", "work", VOLATILE_MARK), { recursive: true, force: true });
    const tail = [`upperdir=${join(dir, "upper")}`, `workdir=${join(dir, "work")}`, ...(o.volatile ? ["volatile"] : [])];
    const targets = o.mountpoints ? this.mountpointLayer(lower) : null;
    // The mount-target layer's path is longer than an l/ link: where it would push a deep image's
    // options past the page, the start goes without it (init makes the targets, as before it).
    if (targets) return overlayMount(this.home, [targets, ...lower], tail) ?? overlayMount(this.home, lower, tail) ?? relativeOverlay(this.home, lower, tail);
    return overlayMount(this.home, lower, tail) ?? relativeOverlay(this.home, lower, tail);
  }

  /**
   * The mount-target layer of the chain whose top is `lower[0]` (mountpoint-layer.ts), kept in
   * the top layer's directory so it goes with it; made at the first start. Relative to <home>;
   * null for an image without layers, or when it cannot be made (init then makes the targets).
   */
  private mountpointLayer(lower: readonly string[]): string | null {
    const top = lower[0];
    if (!top?.startsWith(`${LINK_DIR}/`)) return null;
    try {
      const id = basename(dirname(readlinkSync(join(this.home, top))));
      const rel = join(checkId(id), MOUNTPOINTS_DIR);
      if (!lstatOrNull(join(this.home, rel))) buildMountpointLayer(join(this.home, rel), lower.map((l) => join(this.home, l)), join(this.dirs.tmp, `mountpoints-${id}-`));
      return rel;
    } catch {
      return null;
    }
  }

  async removeRw(containerId: string): Promise<void> {
    rmSync(this.dirs.rwDir(containerId), { recursive: true, force: true });
  }
  setAsideRw(containerId: string): string | null {
    return this.dirs.setAsideRw(containerId);
  }
  rwIds(): string[] {
    return this.dirs.rwIds().filter((n) => !n.endsWith(".tmp"));
  }

  private lowerDiffs(dir: string): string[] {
    return readFileSync(join(dir, "lower"), "utf8").split(":").map((l) => join(this.home, l));
  }

  async changes(containerId: string): Promise<Change[]> {
    const dir = this.dirs.requireRw(containerId);
    return overlayChanges(join(dir, "upper"), this.lowerDiffs(dir));
  }

  async rwSize(containerId: string): Promise<number> {
    const upper = join(this.dirs.requireRw(containerId), "upper");
    return changesSize(upper, await this.changes(containerId));
  }

  diffTar(containerId: string): ReadableStream<Uint8Array> {
    return overlayDiffTar(join(this.dirs.requireRw(containerId), "upper"));
  }
}

export function newOverlay2Driver(home: string): Overlay2Driver {
  return new Overlay2Driver(home);
}

/** True when the running kernel can give us overlay2 under `home`. */
export function overlaySupported(home: string, procFilesystems = "/proc/filesystems", procMounts = "/proc/self/mountinfo"): boolean {
  const fsList = lstatOrNull(procFilesystems) ? readFileSync(procFilesystems, "utf8") : "";
  if (!/\boverlay$/m.test(fsList)) return false;
  // overlayfs cannot use an overlay as upper dir (Docker refuses the same).
  return fsTypeOf(home, procMounts) !== "overlay";
}

/** The fs type of the mount holding `path` (longest mount point prefix in mountinfo). */
export function fsTypeOf(path: string, mountinfo = "/proc/self/mountinfo"): string | null {
  let best: { point: string; type: string } | null = null;
  for (const line of readFileSync(mountinfo, "utf8").split("\n")) {
    const f = line.split(" ");
    const sep = f.indexOf("-");
    if (sep < 0 || f.length < sep + 2) continue;
    const point = (f[4] ?? "").replace(/\\040/g, " ");
    const inside = path === point || path.startsWith(point.endsWith("/") ? point : `${point}/`);
    if (inside && (!best || point.length >= best.point.length)) best = { point, type: f[sep + 1]! };
  }
  return best?.type ?? null;
}

/** The overlay mount of `lower` (relative to home) with absolute lowerdirs, or in Docker's relative form (mountFrom); null when neither fits the one page of mount data. */
function overlayMount(home: string, lower: readonly string[], tail: string[]): MountSpec | null {
  const abs = [`lowerdir=${lower.map((l) => join(home, l)).join(":")}`, ...tail];
  if (abs.join(",").length < PAGE_SIZE) return { type: "overlay", source: "overlay", options: abs };
  const rel = relativeOverlay(home, lower, tail);
  return rel.options.join(",").length < PAGE_SIZE ? rel : null;
}

/** Relative lowerdirs resolved from <home> (Docker's mountFrom): what a long chain needs. */
function relativeOverlay(home: string, lower: readonly string[], tail: string[]): MountSpec {
  return { type: "overlay", source: "overlay", options: [`lowerdir=${lower.join(":")}`, ...tail], cwd: home };
}
