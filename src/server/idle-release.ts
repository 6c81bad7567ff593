// After a burst of work (a pull, twenty runs) the daemon holds garbage and allocator
// pages it no longer needs: JavaScriptCore sweeps lazily and collects when the heap
// grows, not when the daemon goes quiet, so an idle daemon stayed 20–30 MB above where
// it started. A moment after the last job of a burst ends, one full collection
// (Bun.gc(true)) frees the dead objects (and the native memory their finalizers own)
// and has mimalloc return the freed pages.
// Once per burst, while nothing is asking, and only after a burst: RSS grew by WORTH
// since the last release, or BURST jobs ran (RSS alone misses a burst that followed a
// release closely: the floor, read once RSS settled, then already held its garbage). A
// monitor's ping every few seconds is no burst. ~7–11 ms of a daemon with no work.
// A job that left RSS BIG above the floor (a pull: tens of MB of dead network and
// gunzip buffers) is released right after it, not after the quiet: the work that
// follows a pull (`docker run` of the image, the next pull) then starts from the floor
// instead of piling its own garbage on the pull's (the bench's "after the pulls and 20
// runs" held 45–50 MB anonymous, 25 once released). One collection (~7–11 ms) after
// a job of seconds.
// A burst that goes on (runs back to back: no quiet comes) is released every LONG_BURST
// jobs once RSS grew WORTH: each `run --rm` (5 jobs) leaves its container's two 256 KiB
// pipe read buffers (Bun's, one per output stream) dead but promoted past the young
// generation, so only a full collection frees them (an eden one did not); right after 20
// runs the JS heap's external memory was 13.9 MB, 4.3 after a full collection. Every ~10
// runs, one collection (~7–11 ms): "after the pulls and 20 runs" anon 27–29 MiB instead
// of 29–35 (two windows of 3 rounds in turns), RSS at idle, the daemon's CPU per run
// and run latency unchanged (issue 16 note, session 6).

const MiB = 1024 * 1024;
const WORTH = 4 * MiB;
const BIG = 24 * MiB;
const SETTLE_MS = 1500;
const BURST = 8;
export const LONG_BURST = 48;

export interface IdleRelease {
  /** Work happened: release once it has been quiet for a while. */
  poke(): void;
  stop(): void;
}

export function idleRelease(quietMs = 2000, release: () => void = releaseMemory, rss: () => number = process.memoryUsage.rss): IdleRelease {
  let timer: Timer | null = null;
  let soon: Timer | null = null;
  let floor = rss();
  let jobs = 0;
  const releaseIfGrown = (burst = BURST) => {
    if (rss() - floor < WORTH && jobs < burst) return;
    release();
    jobs = 0;
    floor = rss();
    // RSS keeps falling for a second or so after the collection (freed blocks go back to
    // the OS in batches): the floor is where it settles, or a later burst looks smaller.
    setTimeout(() => (floor = Math.min(floor, rss())), SETTLE_MS).unref?.();
  };
  return {
    poke() {
      jobs++;
      if (soon) return;
      const grown = rss() - floor;
      if (grown >= BIG || (jobs >= LONG_BURST && grown >= WORTH)) {
        // Next turn of the event loop: the job's answer goes out first.
        soon = setTimeout(() => {
          soon = null;
          releaseIfGrown(Infinity);
        }, 0);
        soon.unref?.();
        return;
      }
      if (timer) timer.refresh();
      else {
        timer = setTimeout(() => {
          timer = null;
          releaseIfGrown();
        }, quietMs);
        timer.unref?.();
      }
    },
    stop() {
      if (timer) clearTimeout(timer);
      if (soon) clearTimeout(soon);
      timer = soon = null;
    },
  };
}

/**
 * One full collection. A gcAndSweep() before it (a second full collection with a
 * synchronous sweep) doubled the cost for nothing: in the daemon after pulls and 20 runs,
 * 18–25 ms vs 7–11 ms per release, and RSS 5 s later the same (anon 22.3/21.5/22.8 vs
 * 22.8/23.8/23.0 MiB, bench memory in turns; issue 16 note, session 6).
 */
export function releaseMemory(): void {
  Bun.gc(true);
}
