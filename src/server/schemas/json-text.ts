// JSON text → value with Go's limits and Go's words: encoding/json's scanner
// errors ("invalid character 'o' looking for beginning of object key string"),
// a truncated body, and nesting past its limit (10,000 levels; a volume whose
// labels nested deeper broke `volume ls` once stored). A client that shows
// dockerd's message shows the same one from ctr.

/** encoding/json's maxNestingDepth. */
export const MAX_DEPTH = 10_000;

/**
 * dockerd reads most bodies with json.NewDecoder (one value; a truncated body is
 * "unexpected EOF"; what follows the value is not read) and a few, like
 * `filters`, with json.Unmarshal ("unexpected end of JSON input"; trailing text
 * is an error).
 */
export type GoReader = "decoder" | "unmarshal";

export type Parsed = { ok: true; value: unknown } | { ok: false; message: string };

/** strconv.Quote's short escapes for control characters. */
const GO_ESCAPES: Record<number, string> = { 7: "\\a", 8: "\\b", 9: "\\t", 10: "\\n", 11: "\\v", 12: "\\f", 13: "\\r" };

/** Go's quoteChar (strconv.Quote of one character, in single quotes). */
function quoteChar(c: string): string {
  if (c === "'") return `'\\''`;
  if (c === '"') return `'"'`;
  const code = c.charCodeAt(0);
  if (code < 0x20 || code === 0x7f) return `'${GO_ESCAPES[code] ?? `\\x${code.toString(16).padStart(2, "0")}`}'`;
  return `'${JSON.stringify(c).slice(1, -1)}'`;
}

class SyntaxError_ extends Error {}
const EOF = new SyntaxError_("eof");

/**
 * Walks one JSON value the way Go's scanner does and answers where it ends;
 * throws Go's message for the first wrong character, or EOF.
 */
function scanValue(t: string, start: number): number {
  let i = start;
  const bad = (ctx: string): never => {
    throw new SyntaxError_(`invalid character ${quoteChar(t[i]!)} ${ctx}`);
  };
  const ws = () => {
    while (i < t.length && (t[i] === " " || t[i] === "\t" || t[i] === "\n" || t[i] === "\r")) i++;
    if (i >= t.length) throw EOF;
  };
  const literal = (word: string) => {
    for (let k = 1; k < word.length; k++) {
      i++;
      if (i >= t.length) throw EOF;
      if (t[i] !== word[k]) bad(`in literal ${word} (expecting ${quoteChar(word[k]!)})`);
    }
    i++;
  };
  const string = () => {
    i++; // opening quote
    for (;;) {
      if (i >= t.length) throw EOF;
      const c = t[i]!;
      if (c === '"') return void i++;
      if (c < " ") bad("in string literal");
      if (c === "\\") {
        i++;
        if (i >= t.length) throw EOF;
        if (t[i] === "u") {
          for (let k = 0; k < 4; k++) {
            i++;
            if (i >= t.length) throw EOF;
            if (!/[0-9a-fA-F]/.test(t[i]!)) bad("in \\u hexadecimal character escape");
          }
        } else if (!'"\\/bfnrt'.includes(t[i]!)) bad("in string escape code");
      }
      i++;
    }
  };
  const digits = (ctx: string) => {
    if (i >= t.length) throw EOF;
    if (!(t[i]! >= "0" && t[i]! <= "9")) bad(ctx);
    while (i < t.length && t[i]! >= "0" && t[i]! <= "9") i++;
  };
  const number = () => {
    if (t[i] === "-") {
      i++;
      digits("in numeric literal");
    } else if (t[i] === "0") i++;
    else digits("in numeric literal");
    if (t[i] === ".") {
      i++;
      digits("after decimal point in numeric literal");
    }
    if (t[i] === "e" || t[i] === "E") {
      i++;
      if (t[i] === "+" || t[i] === "-") i++;
      digits("in exponent of numeric literal");
    }
  };
  // The stack holds the open containers; depth is its length.
  const stack: ("{" | "[")[] = [];
  const open = (c: "{" | "[") => {
    stack.push(c);
    if (stack.length > MAX_DEPTH) bad("exceeded max depth");
    i++;
  };
  const scalarOrOpen = (): boolean => {
    ws();
    const c = t[i]!;
    if (c === "{" || c === "[") {
      open(c);
      return true;
    }
    if (c === '"') string();
    else if (c === "t") literal("true");
    else if (c === "f") literal("false");
    else if (c === "n") literal("null");
    else if (c === "-" || (c >= "0" && c <= "9")) number();
    else bad("looking for beginning of value");
    return false;
  };
  const key = (first: boolean) => {
    ws();
    if (first && t[i] === "}") return false;
    if (t[i] !== '"') bad("looking for beginning of object key string");
    string();
    ws();
    if (t[i] !== ":") bad("after object key");
    i++;
    return true;
  };
  // After a value inside a container: `,` or the closer; true when the container closed.
  const afterValue = (): boolean => {
    ws();
    const top = stack[stack.length - 1]!;
    if (t[i] === ",") {
      i++;
      if (top === "{") key(false);
      return false;
    }
    if ((top === "{" && t[i] === "}") || (top === "[" && t[i] === "]")) {
      i++;
      stack.pop();
      return true;
    }
    return bad(top === "{" ? "after object key:value pair" : "after array element");
  };
  let opened = scalarOrOpen();
  for (;;) {
    if (opened) {
      const top = stack[stack.length - 1]!;
      // Right after `{` or `[`: an empty container, a first key, or a first value.
      if (top === "{") {
        if (!key(true)) {
          i++;
          stack.pop();
        } else if ((opened = scalarOrOpen())) continue;
      } else {
        ws();
        if (t[i] === "]") {
          i++;
          stack.pop();
        } else if ((opened = scalarOrOpen())) continue;
      }
    }
    if (!stack.length) return i;
    while (afterValue()) if (!stack.length) return i;
    opened = scalarOrOpen();
  }
}

export function parseJsonText(text: string, reader: GoReader = "decoder"): Parsed {
  let end: number;
  try {
    end = scanValue(text, 0);
    if (reader === "unmarshal") {
      const rest = text.slice(end).trim();
      if (rest) return { ok: false, message: `invalid character ${quoteChar(rest[0]!)} after top-level value` };
    }
  } catch (e) {
    if (e === EOF) return { ok: false, message: reader === "decoder" ? "unexpected EOF" : "unexpected end of JSON input" };
    if (e instanceof SyntaxError_) return { ok: false, message: e.message };
    throw e;
  }
  return { ok: true, value: JSON.parse(text.slice(0, end)) };
}
