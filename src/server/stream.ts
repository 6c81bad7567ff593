import type { Context } from "hono";
import { pushStream } from "./push-stream.ts";

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
  /**
   * Writes one JSON value followed by `\r\n` (dockerd's framing for progress).
   * Like `bytes`, returns a promise when the client fell behind: await it.
   */
  json(v: unknown): Promise<void> | undefined;
  bytes(b: Uint8Array): Promise<void> | undefined;
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
  const out = pushStream();
  const w: LineWriter = {
    json: (v) => out.write(enc.encode(JSON.stringify(v) + "\r\n")),
    bytes: (b) => out.write(b),
    signal: c.req.raw.signal,
  };
  produce(w)
    .catch((e: unknown) => {
      // Headers are gone; dockerd reports late failures in-band.
      w.json({ errorDetail: { message: (e as Error).message }, error: (e as Error).message });
    })
    .finally(out.close);
  const headers: Record<string, string> = {};
  if (contentType) headers["Content-Type"] = contentType;
  return markStreaming(new Response(out.body, { status, headers }));
}
