// Typed errors inside the engine; only the server edge turns them into HTTP
// status codes (src/server/errors.ts), and only the CLI into `Error: …` lines.

export class EngineError extends Error {
  override name = "EngineError";
}
/** 404: no such container / image / network / volume / job. */
export class NotFoundError extends EngineError {
  override name = "NotFoundError";
}
/** 409: name in use, container running, volume in use … */
export class ConflictError extends EngineError {
  override name = "ConflictError";
}
/** 400: the caller sent something we cannot act on. */
export class InvalidParameterError extends EngineError {
  override name = "InvalidParameterError";
}
/** 304: start of a started container, stop of a stopped one. */
export class NotModifiedError extends EngineError {
  override name = "NotModifiedError";
}
/** 401/403 from a registry, passed through. */
export class UnauthorizedError extends EngineError {
  override name = "UnauthorizedError";
}
/** 403: dockerd's "forbidden" (an endpoint already exists, an operation a network refuses). */
export class ForbiddenError extends EngineError {
  override name = "ForbiddenError";
}
/** 503: dockerd's "unavailable" (swarm endpoints on a node that is not a swarm manager). */
export class UnavailableError extends EngineError {
  override name = "UnavailableError";
}
/** 501: the request is valid but we do not do it. */
export class NotImplementedError extends EngineError {
  override name = "NotImplementedError";
}
