/** What the tar code reads: a web stream or any (async) iterable of byte chunks. */
export type ByteSource = ReadableStream<Uint8Array> | AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

export async function* iterate(src: ByteSource): AsyncGenerator<Uint8Array> {
  yield* src as AsyncIterable<Uint8Array>;
}

/** Wraps an async generator as a ReadableStream (pull-based, so nothing is buffered ahead). */
export function toReadable(gen: AsyncIterable<Uint8Array>): ReadableStream<Uint8Array> {
  const it = gen[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>({
    async pull(ctl) {
      const r = await it.next();
      if (r.done) ctl.close();
      else ctl.enqueue(r.value);
    },
    async cancel() {
      await it.return?.();
    },
  });
}
