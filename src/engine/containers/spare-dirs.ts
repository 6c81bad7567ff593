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

export const SPARES_DIR = ".spares";
const FILES = ["hostname", "hosts", "resolv.conf", "log"] as const;

export class SpareContainerDirs {
  private ready: string[] = [];
  private making = false;
  private pending: Promise<void> = Promise.resolve();

  /** `root`: <root>/containers. */
  constructor(private readonly root: string) {}

  /** Puts a spare in place as container `id`'s directory; false (and the caller makes it) when none is ready or it exists. */
  take(id: string): boolean {
    const p = containerPaths(this.root, id);
    const spare = existsSync(p.dir) ? undefined : this.ready.pop();
    this.refill();
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
    return this.pending;
  }

  private refill(): void {
    if (this.making || this.ready.length) return;
    this.making = true;
    const dir = join(this.root, SPARES_DIR, randomBytes(6).toString("hex"));
    this.pending = (async () => {
      try {
        await mkdir(join(this.root, SPARES_DIR), { recursive: true, mode: 0o700 });
        await mkdir(dir, 0o710);
        await mkdir(join(dir, "rootfs"), 0o755);
        for (const f of FILES) await writeFile(join(dir, f), "");
        this.ready.push(dir);
      } catch {
        await rm(dir, { recursive: true, force: true }).catch(() => {});
      } finally {
        this.making = false;
      }
    })();
  }
}
