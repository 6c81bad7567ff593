// After a burst of work (a pull, twenty runs) the daemon holds garbage and allocator
// pages it no longer needs: JavaScriptCore sweeps lazily and collects when the heap
// grows, not when the daemon goes quiet, so an idle daemon stayed 20–30 MB above where
// it started. A moment after the last job of a burst ends, one full collection with a
// synchronous sweep frees the dead objects (and the native memory their finalizers
// own), and Bun.gc(true) collects again and has mimalloc return the freed pages.
// Once per burst, while nothing is asking, and only when RSS grew by WORTH since the
// last release (a monitor's ping every few seconds is no burst): a few ms of a daemon
// with no work.
import { gcAndSweep } from "bun:jsc";

const WORTH = 4 * 1024 * 1024;

export interface IdleRelease {
  /** Work happened: release once it has been quiet for a while. */
  poke(): void;
  stop(): void;
}

export function idleRelease(quietMs = 2000, release: () => void = releaseMemory, rss: () => number = process.memoryUsage.rss): IdleRelease {
  let timer: Timer | null = null;
  let floor = rss();
  return {
    poke() {
      if (timer) timer.refresh();
      else {
        timer = setTimeout(() => {
          timer = null;
          if (rss() - floor < WORTH) return;
          release();
          floor = rss();
        }, quietMs);
        timer.unref?.();
      }
    },
    stop() {
      if (timer) clearTimeout(timer);
      timer = null;
    },
  };
}

export function releaseMemory(): void {
  gcAndSweep();
  Bun.gc(true);
}
