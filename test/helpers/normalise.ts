// Normalising API answers before comparing dockerd's with ctr's: ids, digests,
// times, addresses and generated names vary per run and per daemon.
const ID = /\b[0-9a-f]{64}\b/g;
const SHORT_ID = /\b[0-9a-f]{12}\b/g;
const TIME = /\b\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)\b/g;
const IPV4 = /\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b/g;
const MAC = /\b[0-9a-f]{2}(:[0-9a-f]{2}){5}\b/gi;

export interface NormaliseOptions {
  /** Extra literal strings to replace (e.g. the registry host, a temp dir) with a token. */
  replace?: Record<string, string>;
  /** Keep addresses (for scenarios that assert on chosen subnets). */
  keepAddresses?: boolean;
}

export function normaliseText(s: string, o: NormaliseOptions = {}): string {
  for (const [from, to] of Object.entries(o.replace ?? {})) s = s.split(from).join(to);
  s = s.replace(ID, "<id>").replace(SHORT_ID, "<id>").replace(TIME, "<time>");
  if (!o.keepAddresses) s = s.replace(IPV4, "<ip>").replace(MAC, "<mac>");
  return s;
}

/** Deep-normalises a JSON value: strings as normaliseText, object keys sorted. */
export function normalise(v: unknown, o: NormaliseOptions = {}): unknown {
  if (typeof v === "string") return normaliseText(v, o);
  if (Array.isArray(v)) return v.map((x) => normalise(x, o));
  if (v && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) out[normaliseText(k, o)] = normalise((v as Record<string, unknown>)[k], o);
    return out;
  }
  return v;
}

/** Paths ("a.b[0].c") where two normalised values differ. */
export function differences(a: unknown, b: unknown, path = ""): string[] {
  if (Object.is(a, b)) return [];
  if (a && b && typeof a === "object" && typeof b === "object" && Array.isArray(a) === Array.isArray(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    const out: string[] = [];
    for (const k of keys) {
      const p = Array.isArray(a) ? `${path}[${k}]` : path ? `${path}.${k}` : k;
      out.push(...differences((a as any)[k], (b as any)[k], p));
    }
    return out;
  }
  return [path || "<root>"];
}
