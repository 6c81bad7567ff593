// vfs: every layer is a full copy of its parent plus its diff (Docker's vfs
// driver). Slow and large, but works on any file system, e.g. when the daemon's
// root is itself on overlayfs. Whiteouts are applied (deleted) at extraction.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { extractLayer } from "../tar/extract.ts";
import type { ByteSource } from "../tar/byte-source.ts";
import { NotFoundError } from "../../engine/errors.ts";
import type { ApplyOptions, Change, LayerDriver, MountSpec } from "./driver.ts";
import { LayerDirs } from "./layer-dirs.ts";
import { copyTree } from "./copy-tree.ts";
import { changesSize, treeChanges } from "./changes.ts";
import { changesTar } from "./diff-tar.ts";

export class VfsDriver implements LayerDriver {
  readonly name = "vfs" as const;
  readonly needsParent = true;
  readonly home: string;
  private readonly dirs: LayerDirs;

  constructor(home: string) {
    this.home = resolve(home);
    this.dirs = new LayerDirs(this.home);
  }

  /** diff/ holding a copy of the parent's tree. */
  private seed(dir: string, parent: string | null): string {
    const diff = join(dir, "diff");
    mkdirSync(diff, 0o755);
    if (parent) {
      if (!this.exists(parent)) throw new NotFoundError(`parent layer ${parent} does not exist`);
      copyTree(this.diffPath(parent), diff);
    }
    writeFileSync(join(dir, "parent"), parent ?? "");
    return diff;
  }

  async create(id: string, parent: string | null): Promise<void> {
    await this.dirs.atomically(id, async (dir) => {
      this.seed(dir, parent);
    });
  }

  async applyTar(id: string, parent: string | null, tar: ByteSource, opts: ApplyOptions = {}) {
    return this.dirs.atomically(id, async (dir) => {
      const diff = this.seed(dir, parent);
      return extractLayer(tar, diff, { whiteouts: "apply", expectedDiffId: opts.diffId });
    });
  }

  diffPath(id: string): string {
    return this.dirs.diff(id);
  }
  exists(id: string): boolean {
    return existsSync(this.dirs.diff(id));
  }
  async remove(id: string): Promise<void> {
    rmSync(this.dirs.layer(id), { recursive: true, force: true });
  }
  layerIds(): string[] {
    return this.dirs.layerIds();
  }
  cleanupTemp(): void {
    this.dirs.clearTmp();
  }

  async createRw(containerId: string, lowers: readonly string[]): Promise<MountSpec> {
    const dir = this.dirs.rwDir(containerId);
    const tmp = `${dir}.tmp`;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, 0o700);
    try {
      this.seed(tmp, lowers[0] ?? null);
      renameSync(tmp, dir);
    } catch (e) {
      rmSync(tmp, { recursive: true, force: true });
      throw e;
    }
    return this.rwMount(containerId);
  }

  rwMount(containerId: string): MountSpec {
    return { type: "bind", source: join(this.dirs.requireRw(containerId), "diff"), options: ["rbind", "rw"] };
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

  private rwBase(dir: string): string | null {
    const parent = readFileSync(join(dir, "parent"), "utf8").trim();
    return parent ? this.diffPath(parent) : null;
  }

  async changes(containerId: string): Promise<Change[]> {
    const dir = this.dirs.requireRw(containerId);
    return treeChanges(join(dir, "diff"), this.rwBase(dir));
  }

  async rwSize(containerId: string): Promise<number> {
    return changesSize(join(this.dirs.requireRw(containerId), "diff"), await this.changes(containerId));
  }

  diffTar(containerId: string): ReadableStream<Uint8Array> {
    const dir = this.dirs.requireRw(containerId);
    const root = join(dir, "diff");
    return changesTar(root, treeChanges(root, this.rwBase(dir)));
  }
}

export function newVfsDriver(home: string): VfsDriver {
  return new VfsDriver(home);
}
