import type { Context } from "hono";
import type { AppEnv } from "../app.ts";
import { acceptHijack, HIJACKED_HEADER, streamedConn, type RawConn } from "../hijack.ts";
import { markStreaming } from "../stream.ts";

/** Docker's media types for attach/exec streams (API ≥ 1.42 distinguishes them). */
export function rawContentType(tty: boolean): string {
  return tty ? "application/vnd.docker.raw-stream" : "application/vnd.docker.multiplexed-stream";
}

/**
 * Opens the raw conversation for attach/exec: a 101 hijack when the client
 * asked to upgrade (the docker CLI always does), else a streamed 200 body.
 */
export function openRaw(c: Context<AppEnv>, tty: boolean, extra: Record<string, string> = {}): { conn: RawConn; response: Response } {
  const contentType = rawContentType(tty);
  const h = c.env?.hijack;
  if (h) {
    const conn = acceptHijack(h, { "Content-Type": contentType, Connection: "Upgrade", Upgrade: "tcp", ...extra });
    return { conn, response: new Response(null, { headers: { [HIJACKED_HEADER]: "1" } }) };
  }
  const { conn, body } = streamedConn();
  return { conn, response: markStreaming(new Response(body, { headers: { "Content-Type": contentType } })) };
}
