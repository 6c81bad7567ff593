import { constants } from "node:os";
import { InvalidParameterError } from "../errors.ts";

const byName = constants.signals as Record<string, number>;

/** Accepts docker's forms: "SIGTERM", "TERM", "term", "15". */
export function parseSignal(s: string | number | undefined, dflt = 15): number {
  if (s === undefined || s === "") return dflt;
  if (typeof s === "number") return s;
  if (/^\d+$/.test(s)) {
    const n = Number(s);
    if (n < 1 || n > 64) throw new InvalidParameterError(`Invalid signal: ${s}`);
    return n;
  }
  const name = s.toUpperCase().startsWith("SIG") ? s.toUpperCase() : `SIG${s.toUpperCase()}`;
  const n = byName[name];
  if (n === undefined) throw new InvalidParameterError(`Invalid signal: ${s}`);
  return n;
}
