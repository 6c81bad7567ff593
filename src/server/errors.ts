import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import {
  ConflictError,
  ForbiddenError,
  InvalidParameterError,
  NotFoundError,
  NotImplementedError,
  NotModifiedError,
  UnauthorizedError,
} from "../engine/errors.ts";

/** Raised by request parsing helpers: always a 400 with Docker's message shape. */
export class BadRequestError extends Error {
  override name = "BadRequestError";
}

/** A body over its route's cap (JSON bodies): 413, and the connection is closed unread. */
export class PayloadTooLargeError extends Error {
  override name = "PayloadTooLargeError";
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
  if (err instanceof HTTPException) return err.status;
  // The exec driver's failed start (command not found / not executable): dockerd answers 400.
  if (err instanceof Error && err.name === "StartError") return 400;
  return 500;
}

/** Hono onError: typed engine errors → Docker status codes and `{"message": …}`. */
export function onError(err: Error, c: Context): Response {
  const status = statusOf(err);
  if (status === 500) console.error(`[api] ${c.req.method} ${c.req.path}:`, err);
  if (status === 304) return c.body(null, 304);
  return c.json({ message: err.message }, status as 400);
}
