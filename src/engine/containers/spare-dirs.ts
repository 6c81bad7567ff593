// A container's directory made ahead: <containers>/.spares/<hex> holds the
// empty files a start writes (hostname, hosts, resolv.conf), its log and the
// rootfs mountpoint, and a new container's start renames it into place
// instead of making those six inodes then — on an ext4 without a journal
// (this VM's) each costs ~0.3–0.8 ms while other containers' files are being
// deleted (find_inode_bit skips every recently deleted inode). The next one
// is made on the thread pool right after. The daemon's start empties
// .spares (disk-repair.ts): nothing in it belongs to anyone.
import { existsSync, renameSync } from "node:fs";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { containerPaths } from "./files.ts";
import { SparePool } from "../../store/spare-pool.ts";

export const SPARES_DIR = ".spares";
const FILES = ["hostname", "hosts", "resolv.conf", "log"] as const;

export class SpareContainerDirs {
  private readonly pool: SparePool;

  /** `root`: <root>/containers. */
  constructor(private readonly root: string) {
    this.pool = new SparePool(
      () => join(root, SPARES_DIR, randomBytes(6).toString("hex")),
      async (dir) => {
        await mkdir(join(root, SPARES_DIR), { recursive: true, mode: 0o700 });
        await mkdir(dir, 0o710);
        await mkdir(join(dir, "rootfs"), 0o755);
        for (const f of FILES) await writeFile(join(dir, f), "");
      },
    );
  }

  /** Puts a spare in place as container `id`'s directory; false (and the caller makes it) when none is ready or it exists. */
  take(id: string): boolean {
    const p = containerPaths(this.root, id);
    const spare = existsSync(p.dir) ? null : this.pool.take();
    this.pool.refill();
    if (!spare) return false;
    try {
      renameSync(spare, p.dir);
    } catch {
      void rm(spare, { recursive: true, force: true }).catch(() => {});
      return false;
    }
    renameSync(join(p.dir, "log"), p.log);
    return true;
  }

  /** Settles once the spare being made (if any) is ready or given up. */
  made(): Promise<void> {
    return this.pool.made();
  }
}
