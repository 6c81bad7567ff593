// JSON text → value with Go's limits and Go's words for the two syntax errors
// clients actually hit: a truncated body and nesting past encoding/json's limit
// (10,000 levels; a volume whose labels nest deeper broke `volume ls` once stored).

/** encoding/json's maxNestingDepth. */
export const MAX_DEPTH = 10_000;

/**
 * dockerd reads most bodies with json.NewDecoder (a truncated body is
 * "unexpected EOF") and a few, like `filters`, with json.Unmarshal
 * ("unexpected end of JSON input").
 */
export type GoReader = "decoder" | "unmarshal";

export type Parsed = { ok: true; value: unknown } | { ok: false; message: string };

/** One pass over the text: nesting depth and whether it ends inside a value. */
function scan(text: string): { tooDeep?: string; truncated: boolean } {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (inString) {
      if (ch === 0x5c) i++; // backslash: skip the escaped char
      else if (ch === 0x22) inString = false;
      continue;
    }
    if (ch === 0x22) inString = true;
    else if (ch === 0x7b || ch === 0x5b) {
      if (++depth > MAX_DEPTH) return { tooDeep: text[i], truncated: false };
    } else if (ch === 0x7d || ch === 0x5d) depth--;
  }
  return { truncated: inString || depth > 0 };
}

export function parseJsonText(text: string, reader: GoReader = "decoder"): Parsed {
  const eof = reader === "decoder" ? "unexpected EOF" : "unexpected end of JSON input";
  const s = scan(text);
  if (s.tooDeep) return { ok: false, message: `invalid character '${s.tooDeep}' exceeded max depth` };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (e) {
    if (s.truncated) return { ok: false, message: eof };
    return { ok: false, message: `invalid JSON: ${(e as Error).message}` };
  }
}
