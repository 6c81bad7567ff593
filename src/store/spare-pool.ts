// Directories made ahead, one at a time, off the request that will want the
// next: a start or create renames one into place instead of making its inodes
// then (on an ext4 without a journal, this VM's, each new inode costs ~0.3–0.8
// ms while other containers' files are being deleted: find_inode_bit skips
// every recently deleted one). Used for container rw layer dirs (layer-dirs.ts)
// and container dirs (engine/containers/spare-dirs.ts). The spares live where
// the daemon's start empties everything (a layer store's .tmp, containers/.spares):
// nothing in them belongs to anyone.
import { rm } from "node:fs/promises";

export class SparePool {
  private readonly ready: string[] = [];
  private making = false;
  private pending: Promise<void> = Promise.resolve();

  constructor(
    /** Where the next spare goes (a fresh path each time). */
    private readonly nextPath: () => string,
    /** Makes a spare at `dir` (on the thread pool: fs/promises). */
    private readonly make: (dir: string) => Promise<void>,
  ) {}

  /** A ready spare, out of the pool; null when none is. */
  take(): string | null {
    return this.ready.pop() ?? null;
  }

  /** Makes the next spare unless one is ready or on its way; a failed one is removed and not retried until the next refill. */
  refill(): void {
    if (this.making || this.ready.length) return;
    this.making = true;
    const dir = this.nextPath();
    this.pending = (async () => {
      try {
        await this.make(dir);
        this.ready.push(dir);
      } catch {
        await rm(dir, { recursive: true, force: true }).catch(() => {});
      } finally {
        this.making = false;
      }
    })();
  }

  /** Settles once the spare being made (if any) is ready or given up. */
  made(): Promise<void> {
    return this.pending;
  }
}
