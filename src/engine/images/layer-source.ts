// One pass over a compressed layer: bytes come from an earlier partial ingest
// (replayed) and then from the registry; network bytes are appended to the
// content-store ingest (which hashes them) and handed on to decompression.
// At the end the ingest's digest is checked, so a corrupt blob fails the
// extraction that is reading it. The consumer (decompress → tar extraction)
// may stop before the last byte (gzip trailer, tar padding): `drain()` then
// reads the rest so the digest is still checked.
import type { Ingest } from "../../store/content-store.ts";
import { own } from "../../store/owned-buffers.ts";

export class LayerSource implements AsyncIterable<Uint8Array> {
  private replaying: AsyncIterator<Uint8Array> | null;
  private readonly network: AsyncIterator<Uint8Array>;
  private done = false;
  private received: number;
  /** What the download itself failed with (a cut connection keeps the partial for resume). */
  networkError: unknown = null;
  private failure: unknown = null;

  constructor(
    private readonly ingest: Ingest | null,
    network: AsyncIterable<Uint8Array>,
    private readonly onBytes: (total: number) => void,
    /**
     * The network's chunks are ours alone (each fetch body chunk is a buffer of its own):
     * they are freed once the ingest wrote them and the consumer is done with them.
     */
    private readonly ownsChunks = false,
  ) {
    this.replaying = ingest && ingest.offset > 0 ? ingest.replay()[Symbol.asyncIterator]() : null;
    this.network = network[Symbol.asyncIterator]();
    this.received = ingest?.offset ?? 0;
  }

  async next(): Promise<IteratorResult<Uint8Array>> {
    if (this.failure) throw this.failure;
    if (this.done) return { done: true, value: undefined };
    if (this.replaying) {
      const r = await this.replaying.next();
      if (!r.done) return r;
      this.replaying = null;
    }
    let r: IteratorResult<Uint8Array>;
    try {
      r = await this.network.next();
    } catch (e) {
      this.networkError = e;
      throw e;
    }
    if (r.done) {
      this.done = true;
      try {
        this.ingest?.verify();
      } catch (e) {
        // Whoever reads next hears it too: the digest check must reach the pull even when
        // a reader that gave up (a failed gunzip's feeder) was the one that read the end.
        this.failure = e;
        throw e;
      }
      return r;
    }
    if (this.ownsChunks) own(r.value, this.ingest ? 2 : 1);
    await this.ingest?.write(r.value);
    this.received += r.value.byteLength;
    this.onBytes(this.received);
    return r;
  }

  /** The consumer stopping early does not end us: drain() still needs the rest. */
  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    return { next: () => this.next(), return: async () => ({ done: true, value: undefined }) };
  }

  async drain(): Promise<void> {
    while (!(await this.next()).done);
  }

  /** Stops the download (on failure); the ingest is the caller's to abort. */
  async close(): Promise<void> {
    this.done = true;
    await this.replaying?.return?.();
    await this.network.return?.();
  }
}
