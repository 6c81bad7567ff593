// A container's netns bind-mounted onto <exec root>/netns/<short id>, as dockerd
// keeps /var/run/docker/netns/<sandbox>: NetworkSettings.SandboxKey then names a
// file that stays valid for the container's life (CNI plugins hold the path),
// not /proc/<pid>/ns/net, which dies with — or is reused after — one pid.
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { mountSpec, unmount } from "../../kernel/mount.ts";

export class NetnsPins {
  constructor(private readonly dir: string) {}

  path(containerId: string): string {
    return join(this.dir, containerId.slice(0, 12));
  }

  /** The pinned file, if this container has one. */
  pinned(containerId: string): string | null {
    const p = this.path(containerId);
    return existsSync(p) ? p : null;
  }

  pin(containerId: string, pid: number): string {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const p = this.path(containerId);
    this.unpin(containerId);
    writeFileSync(p, "", { mode: 0o444 });
    mountSpec({ type: "bind", source: `/proc/${pid}/ns/net`, options: ["bind"] }, p);
    return p;
  }

  /**
   * A daemon killed without --live-restore leaves its pins mounted (a netns
   * kept alive by nothing but them). Only this daemon's directory is looked at:
   * another daemon's exec root, and whatever a pin of ours points at, stay.
   */
  sweep(keep: Set<string>): string[] {
    if (!existsSync(this.dir)) return [];
    const gone = readdirSync(this.dir).filter((name) => !keep.has(name));
    for (const name of gone) this.unpin(name);
    return gone;
  }

  unpin(containerId: string): void {
    const p = this.path(containerId);
    if (!existsSync(p)) return;
    try {
      unmount(p, true);
    } catch {}
    rmSync(p, { force: true });
  }
}
