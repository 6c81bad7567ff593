/**
 * A response body fed by pushes whose writes tell the producer when the reader
 * fell behind: past `highWaterMark` queued bytes a write returns a promise that
 * settles once the reader has taken some (or left). Without it a client that
 * stops reading a log, attach or event stream makes the daemon queue the
 * stream in memory for as long as it stays connected.
 */
export interface PushStream {
  body: ReadableStream<Uint8Array>;
  /** Undefined while there is room; a promise to await when the queue is full. */
  write(chunk: Uint8Array): Promise<void> | undefined;
  close(): void;
  isClosed(): boolean;
}

export const STREAM_HIGH_WATER = 1 << 20;

export function pushStream(onCancel?: () => void, highWaterMark = STREAM_HIGH_WATER): PushStream {
  let ctrl!: ReadableStreamDefaultController<Uint8Array>;
  let closed = false;
  const waiting: (() => void)[] = [];
  const wakeAll = () => {
    for (const w of waiting.splice(0)) w();
  };
  const body = new ReadableStream<Uint8Array>(
    {
      start: (c) => {
        ctrl = c;
      },
      pull: wakeAll,
      cancel: () => {
        closed = true;
        wakeAll();
        onCancel?.();
      },
    },
    new ByteLengthQueuingStrategy({ highWaterMark }),
  );
  return {
    body,
    write: (chunk) => {
      if (closed) return undefined;
      ctrl.enqueue(chunk);
      if ((ctrl.desiredSize ?? 1) > 0) return undefined;
      return new Promise<void>((resolve) => waiting.push(resolve));
    },
    close: () => {
      if (closed) return;
      closed = true;
      ctrl.close();
      wakeAll();
    },
    isClosed: () => closed,
  };
}

/**
 * Gathers small chunks (a log read writes one frame per line) into blocks of
 * about `size` bytes: tens of thousands of tiny chunks cost far more memory and
 * time in the stream than their bytes. A partial block leaves on the next
 * macrotask, so a followed line is not held back.
 */
export function coalescing(write: (b: Uint8Array) => Promise<void> | undefined, size = 32 * 1024) {
  let parts: Uint8Array[] = [];
  let bytes = 0;
  let scheduled = false;
  const flush = (): Promise<void> | undefined => {
    if (!bytes) return undefined;
    const out = Buffer.concat(parts, bytes);
    parts = [];
    bytes = 0;
    return write(out);
  };
  return {
    push(b: Uint8Array): Promise<void> | undefined {
      parts.push(b);
      bytes += b.length;
      if (bytes >= size) return flush();
      if (!scheduled) {
        scheduled = true;
        setImmediate(() => {
          scheduled = false;
          void flush();
        });
      }
      return undefined;
    },
    flush,
  };
}
