// What is left of a container after its exit or removal has been reported:
// its cgroup (rmdir in every v1 hierarchy) and its directory (renamed out of
// the way at once: setAside). Neither is visible through the API, and doing
// it before answering cost every `run --rm` 5–15 ms between the exit and the
// answer (issue 16), so it runs afterwards, one piece of work after the other
// per container. A start of the same container first waits for its own (the
// cgroup gets its id again); shutdown waits for all. A crash in between
// leaves a set-aside directory (disk-repair.ts deletes it at the next start)
// and, after a removal, an empty cgroup: daemons side by side share the
// cgroup parent, so one never sweeps cgroups it has no row for.
import { renameSync, rmSync } from "node:fs";

/** What setAside names a removed container's directory; disk-repair.ts deletes these at start. */
export const SET_ASIDE_SUFFIX = ".removing";

/**
 * Moves `dir` out of its place in one rename (its path is free at once, as
 * after dockerd's rm) and returns where it is now, to delete later; deletes
 * it now when it cannot be renamed.
 */
export function setAside(dir: string): string | null {
  const aside = dir + SET_ASIDE_SUFFIX;
  try {
    renameSync(dir, aside);
    return aside;
  } catch {
    rmSync(dir, { recursive: true, force: true });
    return null;
  }
}

export class Tidier {
  private readonly pending = new Map<string, Promise<void>>();

  constructor(private readonly log?: (msg: string, fields: Record<string, string>) => void) {}

  /** Runs `work` for `id` after what is already queued for it. */
  later(id: string, what: string, work: () => Promise<void> | void): void {
    const p = (this.pending.get(id) ?? Promise.resolve())
      .then(work)
      .catch((e) => this.log?.(`${what} failed`, { id, error: String(e) }))
      .finally(() => {
        if (this.pending.get(id) === p) this.pending.delete(id);
      });
    this.pending.set(id, p);
  }

  /** Resolves once nothing is queued for `id`. */
  async done(id: string): Promise<void> {
    while (this.pending.has(id)) await this.pending.get(id);
  }

  async all(): Promise<void> {
    while (this.pending.size) await Promise.all(this.pending.values());
  }
}
