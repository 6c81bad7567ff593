// Streams that churn through large buffers (a layer pull: 256 KB network chunks,
// gunzip's 16 KB output chunks, tar slices) make garbage faster than JavaScriptCore
// notices: the bytes live outside the JS heap, so the collector waits for the heap's
// own growth while tens of MB of dead buffers pile up (the daemon peaked at 130+ MB
// pulling a 54 MB six-layer image). Streaming code reports the bytes it handed on;
// every PACE_BYTES of them Bun.gc(true) runs a full collection that frees them and
// has mimalloc give the pages back. A collection costs ~8 ms on this 2-core box and
// stalls the pipeline meanwhile: every 8 MB it made a 128 MB pull ~35% slower (peak
// 90-94 MiB), every 16 MB the pull time did not move (peak 96-100 MiB, 113-126 without).
// Tried and not enough: an eden collection (the chunks outlive the young generation
// in the stream queues), Bun.gc(false) (asynchronous: the peak stayed), --smol, and
// collecting only once RSS had grown (RSS lags: mimalloc keeps freed pages a while).
const PACE_BYTES = 16 * 1024 * 1024;
let since = 0;

/** `n` bytes of buffers were handed on; they are garbage once the consumer is done with them. */
export function churned(n: number): void {
  since += n;
  if (since < PACE_BYTES) return;
  since = 0;
  Bun.gc(true);
}

/** `n` bytes of what was reported churned were freed already (owned-buffers.ts): no garbage to collect. */
export function reclaimed(n: number): void {
  since = Math.max(0, since - n);
}
