// One interface for every layer driver (containerd's snapshotter idea): a
// driver lays out directories and DESCRIBES mounts; it never mounts. Only
// src/kernel/mount.ts calls mount(2).
import type { ByteSource } from "../tar/byte-source.ts";
import type { ExtractResult } from "../tar/extract.ts";
import type { MountSpec } from "../../kernel/mount.ts";

export type { MountSpec };

/** One line of `docker diff`: Added, Changed or Deleted, with an absolute path. */
export interface Change {
  kind: "A" | "C" | "D";
  path: string;
}

export interface ApplyOptions {
  /** The diff id the stream must hash to ("sha256:…"). */
  diffId?: string;
}

export interface RwMountOptions {
  /**
   * The layer is thrown away when the container ends (--rm): the kernel may
   * skip syncing it. overlay2 mounts it "volatile" (overlayfs.rst "Volatile
   * mount"); without it the unmount at the container's exit syncs the whole
   * host filesystem under the upper dir (ovl_sync_fs → sync_filesystem), 1–70 ms
   * here before the daemon even learns of the exit. Podman does the same for --rm.
   */
  volatile?: boolean;
  /**
   * The runtime's mount targets (/proc, /dev, /sys, /etc/hostname, hosts,
   * resolv.conf) come from a layer of their own under the rw one, shared by
   * the image's containers (mountpoint-layer.ts), instead of being made in
   * the rw layer at each start. For a start's mount only: cp, export and
   * diff see the rw layer over the image as before.
   */
  mountpoints?: boolean;
}

export interface LayerDriver {
  readonly name: "overlay2" | "vfs";
  readonly home: string;
  /** vfs copies the parent's tree, so the parent must be complete before a child is applied. */
  readonly needsParent: boolean;

  /** An empty layer on top of `parent` (a cache id). */
  create(id: string, parent: string | null): Promise<void>;
  /** Extracts an uncompressed layer tar as layer `id`; visible only once complete. */
  applyTar(id: string, parent: string | null, tar: ByteSource, opts?: ApplyOptions): Promise<ExtractResult>;
  /** overlay2: the layer's own diff; vfs: its full tree. */
  diffPath(id: string): string;
  exists(id: string): boolean;
  remove(id: string): Promise<void>;
  /** Complete layer ids on disk. */
  layerIds(): string[];
  /** Deletes half-written temp dirs and dangling links (daemon start). */
  cleanupTemp(): void;

  /** A container's rw layer over `lowers` (cache ids, top first); returns its rootfs mount. */
  createRw(containerId: string, lowers: readonly string[]): Promise<MountSpec>;
  rwMount(containerId: string, o?: RwMountOptions): MountSpec;
  removeRw(containerId: string): Promise<void>;
  /** Moves the rw layer out of its place now; returns where, to delete later (null: none). See LayerDirs. */
  setAsideRw(containerId: string): string | null;
  rwIds(): string[];
  /** What the container changed, like `docker diff`, sorted by path. */
  changes(containerId: string): Promise<Change[]>;
  /** Bytes the rw layer holds (inspect's SizeRw). */
  rwSize(containerId: string): Promise<number>;
  /** The rw layer as an OCI layer tar (whiteouts as .wh. entries) for `commit`. */
  diffTar(containerId: string): ReadableStream<Uint8Array>;
}

export type DriverFactory = (home: string) => LayerDriver;
