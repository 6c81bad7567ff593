// What is left of a container after its exit or removal has been reported:
// its cgroup (rmdir in every v1 hierarchy) and its rw layer. Neither is
// visible through the API, and doing it before answering cost
// every `run --rm` 5–15 ms between the exit and the answer (issue 16), so it
// runs afterwards, one piece of work after the other per container. A start
// of the same container first waits for its own (the cgroup gets its id
// again); shutdown waits for all. A crash in between leaves what the next
// daemon's repair finds (disk-repair.ts, reconcile: cgroups of no container).

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
