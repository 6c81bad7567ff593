import type { Context } from "hono";

/**
 * Streamed responses get their headers flushed at once and every chunk
 * written as it comes. The mark is a header (not object identity) because
 * middleware may rebuild the Response around the same body.
 */
export const STREAM_HEADER = "x-ctr-stream";

export function markStreaming(r: Response): Response {
  r.headers.set(STREAM_HEADER, "1");
  return r;
}

export function isStreaming(r: Response): boolean {
  return r.headers.get(STREAM_HEADER) === "1";
}

export interface LineWriter {
  /** Writes one JSON value followed by `\r\n` (dockerd's framing for progress). */
  json(v: unknown): void;
  bytes(b: Uint8Array): void;
  /** Aborted when the client goes away. */
  signal: AbortSignal;
}

/**
 * A chunked 200 whose body `produce` writes. Headers leave immediately, which
 * `wait` depends on: the docker CLI sends `start` only after it sees them.
 */
export function streamResponse(
  c: Context,
  contentType: string | null,
  produce: (w: LineWriter) => Promise<void>,
  status = 200,
): Response {
  const enc = new TextEncoder();
  const signal = c.req.raw.signal;
  let closed = false;
  const body = new ReadableStream<Uint8Array>({
    start(ctrl) {
      const w: LineWriter = {
        json: (v) => {
          if (!closed) ctrl.enqueue(enc.encode(JSON.stringify(v) + "\r\n"));
        },
        bytes: (b) => {
          if (!closed) ctrl.enqueue(b);
        },
        signal,
      };
      produce(w)
        .catch((e: unknown) => {
          // Headers are gone; dockerd reports late failures in-band.
          w.json({ errorDetail: { message: (e as Error).message }, error: (e as Error).message });
        })
        .finally(() => {
          if (!closed) {
            closed = true;
            ctrl.close();
          }
        });
    },
    cancel() {
      closed = true;
    },
  });
  const headers: Record<string, string> = {};
  if (contentType) headers["Content-Type"] = contentType;
  return markStreaming(new Response(body, { status, headers }));
}
