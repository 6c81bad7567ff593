/**
 * In-process single flight: concurrent callers with the same key share one
 * run (two pulls of one image download each blob once). The entry is dropped
 * when the run settles, so a failed run may be retried.
 */
export class SingleFlight<T> {
  private readonly running = new Map<string, T>();

  /** `start` must return the shared handle synchronously (register before any await). */
  do(key: string, start: () => T, settled: (h: T) => Promise<unknown>): { handle: T; shared: boolean } {
    const h = this.running.get(key);
    if (h) return { handle: h, shared: true };
    const handle = start();
    this.running.set(key, handle);
    void settled(handle).then(
      () => this.running.delete(key),
      () => this.running.delete(key),
    );
    return { handle, shared: false };
  }

  has(key: string): boolean {
    return this.running.has(key);
  }
}

/** A counting semaphore, FIFO, for "N downloads at a time". */
export class Semaphore {
  private readonly waiters: (() => void)[] = [];
  constructor(private free: number) {}

  async acquire(): Promise<() => void> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((r) => this.waiters.push(r));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiters.shift();
      if (next) next();
      else this.free++;
    };
  }
}

export interface Deferred<T = void> {
  promise: Promise<T>;
  resolve(v: T): void;
  reject(e: unknown): void;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((a, b) => {
    resolve = a;
    reject = b;
  });
  promise.catch(() => {});
  return { promise, resolve, reject };
}
