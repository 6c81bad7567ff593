// Query parameters as dockerd reads them: integers with strconv.Atoi (Go's
// words in the error), signals by name or number.
import { BadRequestError } from "../errors.ts";
import { validSignal } from "./container-rules.ts";

const INT64_MAX = 2n ** 63n - 1n;

/** strconv.Atoi: an optional sign and decimal digits, within int64. */
export function atoi(raw: string | undefined): number | undefined {
  if (raw === undefined || raw === "") return undefined;
  if (!/^[+-]?\d+$/.test(raw)) throw new BadRequestError(`strconv.Atoi: parsing "${raw}": invalid syntax`);
  const n = BigInt(raw);
  if (n > INT64_MAX || n < -INT64_MAX - 1n) throw new BadRequestError(`strconv.Atoi: parsing "${raw}": value out of range`);
  return Number(n);
}

/** A signal parameter (kill, stop): dockerd's signal.ParseSignal. */
export function signalParam(raw: string | undefined): string | undefined {
  if (raw === undefined || raw === "") return undefined;
  if (!validSignal(raw)) throw new BadRequestError(`Invalid signal: ${raw}`);
  return raw;
}
