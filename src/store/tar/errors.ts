import { InvalidParameterError } from "../../engine/errors.ts";

/** A layer tar we refuse to apply: it names the entry and why. */
export class LayerRejectedError extends InvalidParameterError {
  override name = "LayerRejectedError";
  constructor(
    readonly entry: string,
    readonly reason: string,
  ) {
    super(`layer rejected: entry ${JSON.stringify(entry)}: ${reason}`);
  }
}

/** The uncompressed stream did not hash to the diff id the manifest/config promised. */
export class DiffIdMismatchError extends InvalidParameterError {
  override name = "DiffIdMismatchError";
  constructor(
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`layer diff id mismatch: expected ${expected}, got ${actual}`);
  }
}

/** The bytes are not a tar we can read (a bad checksum, an unknown format, cut short). */
export class TarFormatError extends Error {
  override name = "TarFormatError";
}
