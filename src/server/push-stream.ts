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
