// Buffers a pipeline owns outright, freed the moment their last user is done with them
// instead of whenever the garbage collector next runs (issue 16). A pull's bytes live
// outside the JS heap, so JavaScriptCore does not see them pile up: the 256 KB chunks
// of every download stayed resident until a full collection (gc-pacer.ts), and those
// collections stalled the pull. `ArrayBuffer.prototype.transfer(0)` detaches a buffer
// and frees its memory at once (a loop of 400 freed 256 KB chunks stays at +0.7 MB
// instead of +12 MB; a 100 MB download peaked +2-5 MB instead of +17-21 MB).
//
// Only whole buffers are taken (a view of part of a buffer may share it with others,
// as pooled file-stream buffers do), and a buffer is freed only after every user it was
// owned for called done(): a user that never does leaves it to the collector, as before.
const users = new WeakMap<ArrayBufferLike, number>();

/** `chunk` is ours alone; it is freed after `n` calls of done(). Returns whether it was taken. */
export function own(chunk: Uint8Array, n: number): boolean {
  const b = chunk.buffer;
  if (n <= 0 || chunk.byteOffset !== 0 || chunk.byteLength !== b.byteLength || !(b instanceof ArrayBuffer) || users.has(b)) return false;
  users.set(b, n);
  return true;
}

/** One user of `chunk` is done with it; no-op for buffers nobody owns. */
export function done(chunk: Uint8Array): void {
  const b = chunk.buffer;
  const n = users.get(b);
  if (n === undefined) return;
  if (n > 1) {
    users.set(b, n - 1);
    return;
  }
  users.delete(b);
  (b as ArrayBuffer).transfer(0);
}
