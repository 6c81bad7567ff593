// Errors of a build that has started streaming: they reach the client in-band
// as dockerd's {"errorDetail":{"code","message"},"error"}.
import { InvalidParameterError } from "../errors.ts";

export class BuildError extends Error {
  constructor(
    message: string,
    /** The failing RUN's exit code (errorDetail.code), when there is one. */
    readonly code?: number,
    /** The failed RUN's container (kept unless forcerm, as Docker does). */
    readonly containerId?: string,
  ) {
    super(message);
  }
}

export class BuildCancelledError extends Error {
  constructor() {
    super("build cancelled: the client went away");
  }
}

/** A Dockerfile that is wrong in a way found while building (bad stage, bad ARG). */
export class BuildConfigError extends InvalidParameterError {}
