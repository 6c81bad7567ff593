import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { log } from "../log.ts";
import {
  ConflictError,
  ForbiddenError,
  InvalidParameterError,
  NotFoundError,
  NotImplementedError,
  NotModifiedError,
  UnauthorizedError,
  UnavailableError,
} from "../engine/errors.ts";

/** Raised by request parsing helpers: always a 400 with Docker's message shape. */
export class BadRequestError extends Error {
  override name = "BadRequestError";
}

/** A body over its route's cap (JSON bodies): 413, and the connection is closed unread. */
export class PayloadTooLargeError extends Error {
  override name = "PayloadTooLargeError";
}

/** The client closed the connection before its request body ended (an aborted upload). */
export class ClientGoneError extends Error {
  override name = "ClientGoneError";
}

/** The request body stopped arriving for longer than the daemon waits. */
export class ReadTimeoutError extends Error {
  override name = "ReadTimeoutError";
}

/** A body the client framed wrongly (chunked); the message is Go's, which dockerd answers with (500). */
export class BodyFramingError extends Error {
  override name = "BodyFramingError";
}

export function statusOf(err: unknown): number {
  if (err instanceof NotFoundError) return 404;
  if (err instanceof ConflictError) return 409;
  if (err instanceof InvalidParameterError || err instanceof BadRequestError) return 400;
  if (err instanceof PayloadTooLargeError) return 413;
  if (err instanceof NotModifiedError) return 304;
  if (err instanceof UnauthorizedError) return 401;
  if (err instanceof NotImplementedError) return 501;
  if (err instanceof ForbiddenError) return 403;
  if (err instanceof UnavailableError) return 503;
  if (err instanceof HTTPException) return err.status;
  // The exec driver's failed start (command not found / not executable): dockerd answers 400.
  if (err instanceof Error && err.name === "StartError") return 400;
  return 500;
}

/**
 * A request whose client left (an aborted upload) or stopped sending: one log
 * line, not a stack trace. Whatever the job failed with then (a tar cut short),
 * the cause is the client.
 */
function clientLeft(err: Error, c: Context): boolean {
  return err instanceof ClientGoneError || err instanceof ReadTimeoutError || c.req.raw.signal.aborted;
}

/** Hono onError: typed engine errors → Docker status codes and `{"message": …}`. */
export function onError(err: Error, c: Context): Response {
  if (clientLeft(err, c)) {
    log.info(err instanceof ReadTimeoutError ? "request body timed out" : "client went away", { method: c.req.method, path: c.req.path, error: err.message });
    return c.json({ message: err.message }, err instanceof ReadTimeoutError ? 408 : 400);
  }
  const status = statusOf(err);
  // The client's broken framing is its fault, not ours: one line, no stack trace (still Go's 500).
  if (err instanceof BodyFramingError) log.info("malformed request body", { method: c.req.method, path: c.req.path, error: err.message });
  else if (status === 500) console.error(`[api] ${c.req.method} ${c.req.path}:`, err);
  if (status === 304) return c.body(null, 304);
  return c.json({ message: err.message }, status as 400);
}
