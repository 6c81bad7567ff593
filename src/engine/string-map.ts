// Records stored before the API validated its input may hold labels that are
// not strings (a number, objects nested 10,000 deep); listing must still work,
// so views keep only the string entries, as a Go map[string]string would.
export function stringMap(o: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!o || typeof o !== "object" || Array.isArray(o)) return out;
  for (const [k, v] of Object.entries(o)) if (typeof v === "string") out[k] = v;
  return out;
}

/** A TCP/UDP port number as Go's uint16 takes it; anything else is left out of a view. */
export function portNumber(s: string | undefined): number | undefined {
  if (!s || !/^\d+$/.test(s)) return undefined;
  const n = Number(s);
  return n <= 65535 ? n : undefined;
}
