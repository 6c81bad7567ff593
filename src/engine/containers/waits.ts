export type WaitCondition = "not-running" | "next-exit" | "removed";

export interface WaitResult {
  StatusCode: number;
  Error: { Message: string } | null;
}

interface Waiter {
  condition: WaitCondition;
  resolve(r: WaitResult): void;
}

/** Pending `wait` calls per container, released by exits and removals. */
export class Waits {
  private readonly byId = new Map<string, Waiter[]>();

  add(id: string, condition: WaitCondition): Promise<WaitResult> {
    return new Promise((resolve) => {
      const list = this.byId.get(id) ?? [];
      list.push({ condition, resolve });
      this.byId.set(id, list);
    });
  }

  /**
   * The process exited. Every exit ends not-running and next-exit waits, also one
   * a restart policy follows with a new start: dockerd's SetRestarting fires its
   * stop waiters too, so `docker wait` on a `--restart always` container returns
   * at the first exit.
   */
  exited(id: string, code: number): void {
    this.release(id, (w) => w.condition === "next-exit" || w.condition === "not-running", code);
  }

  removed(id: string, code: number): void {
    this.release(id, () => true, code);
  }

  private release(id: string, match: (w: Waiter) => boolean, code: number): void {
    const list = this.byId.get(id);
    if (!list) return;
    const keep: Waiter[] = [];
    for (const w of list) {
      if (match(w)) w.resolve({ StatusCode: code, Error: null });
      else keep.push(w);
    }
    if (keep.length) this.byId.set(id, keep);
    else this.byId.delete(id);
  }
}
