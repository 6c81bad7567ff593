// Buffers a pipeline owns outright, freed the moment their last user is done with them
// instead of whenever the garbage collector next runs (issue 16). A pull's bytes live
// outside the JS heap, so JavaScriptCore does not see them pile up: the 256 KB chunks
// of every download stayed resident until a full collection (gc-pacer.ts), and those
// collections stalled the pull. `ArrayBuffer.prototype.transfer(0)` detaches a buffer
// and frees its memory at once (a loop of 400 freed 256 KB chunks stays at +0.7 MB
// instead of +12 MB; a 100 MB download peaked +2-5 MB instead of +17-21 MB).
//
// Only whole buffers are taken by own() (a view of part of a buffer may share it with
// others, as pooled file-stream buffers do); ownBuffer() is for a producer that knows
// every view of its buffer (gunzip's output buffer, cut into several chunks). A buffer
// is freed only after every user it was owned for called done(): a user that never
// does leaves it to the collector, as before.
interface Owned {
  users: number;
  /** Runs when the buffer is freed, with its size (the GC pacer's count of live garbage). */
  freed?: (bytes: number) => void;
}

const owned = new WeakMap<ArrayBufferLike, Owned>();

function take(b: ArrayBufferLike, n: number, freed?: (bytes: number) => void): boolean {
  if (n <= 0 || !(b instanceof ArrayBuffer) || owned.has(b)) return false;
  owned.set(b, { users: n, freed });
  return true;
}

/** `chunk` is ours alone; it is freed after `n` calls of done(). Returns whether it was taken. */
export function own(chunk: Uint8Array, n: number, freed?: (bytes: number) => void): boolean {
  if (chunk.byteOffset !== 0 || chunk.byteLength !== chunk.buffer.byteLength) return false;
  return take(chunk.buffer, n, freed);
}

/**
 * The whole buffer under the view `chunk` is ours: the caller made it and knows every view
 * of it. Freed after `n` calls of done() (through any view of it) or share()s more.
 */
export function ownBuffer(chunk: Uint8Array, n: number, freed?: (bytes: number) => void): boolean {
  return take(chunk.buffer, n, freed);
}

/** One more user of an owned buffer, who will call done() too. Returns whether it is owned. */
export function share(chunk: Uint8Array): boolean {
  const o = owned.get(chunk.buffer);
  if (o) o.users++;
  return o !== undefined;
}

/** One user of `chunk` is done with it; no-op for buffers nobody owns. */
export function done(chunk: Uint8Array): void {
  const b = chunk.buffer;
  const o = owned.get(b);
  if (o === undefined) return;
  if (--o.users > 0) return;
  owned.delete(b);
  const bytes = b.byteLength;
  (b as ArrayBuffer).transfer(0);
  o.freed?.(bytes);
}
