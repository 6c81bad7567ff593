// Variable expansion in Dockerfile words, with Docker's rules (the shell
// lexer of moby/buildkit's dockerfile frontend): $x and ${x}, the modifiers
// ${x:-word} ${x-word} ${x:+word} ${x+word} ${x:?msg} ${x?msg}, single quotes
// literal, double quotes expanding, the escape character quoting the next one.
// Quotes are removed, as Docker's ProcessWord does.
import { InvalidParameterError } from "../errors.ts";

export type Vars = ReadonlyMap<string, string>;

/** One word, expanded and unquoted. */
export function expandWord(word: string, vars: Vars, escape = "\\"): string {
  return new Lexer(word, vars, escape).word(false);
}

/** Several words: expanded, split on unquoted whitespace, unquoted. */
export function expandWords(text: string, vars: Vars, escape = "\\"): string[] {
  return new Lexer(text, vars, escape).words();
}

class Lexer {
  private i = 0;
  constructor(
    private readonly s: string,
    private readonly vars: Vars,
    private readonly esc: string,
  ) {}

  private peek(): string | undefined {
    return this.s[this.i];
  }

  /** Reads to the end (or, inside ${…}, to the closing brace when `inBrace`). */
  word(inBrace: boolean): string {
    let out = "";
    while (this.i < this.s.length) {
      const ch = this.s[this.i]!;
      if (inBrace && ch === "}") break;
      out += this.token(ch);
    }
    return out;
  }

  words(): string[] {
    const out: string[] = [];
    let cur = "";
    let has = false;
    while (this.i < this.s.length) {
      const ch = this.s[this.i]!;
      if (/\s/.test(ch)) {
        this.i++;
        if (has) out.push(cur);
        cur = "";
        has = false;
        continue;
      }
      has = true;
      if (ch === "$") {
        // An unquoted expansion splits into words like the shell does.
        const v = this.token(ch);
        const parts = v.split(/\s+/);
        cur += parts[0]!;
        for (const p of parts.slice(1)) {
          if (cur) out.push(cur);
          cur = p;
        }
        continue;
      }
      cur += this.token(ch);
    }
    if (has) out.push(cur);
    return out;
  }

  private token(ch: string): string {
    if (ch === "'") return this.single();
    if (ch === '"') return this.double();
    if (ch === "$") return this.dollar();
    if (ch === this.esc) {
      this.i++;
      if (this.i >= this.s.length) return ch;
      return this.s[this.i++]!;
    }
    this.i++;
    return ch;
  }

  private single(): string {
    this.i++;
    const end = this.s.indexOf("'", this.i);
    if (end < 0) throw new InvalidParameterError("unexpected end of statement while looking for matching single-quote");
    const v = this.s.slice(this.i, end);
    this.i = end + 1;
    return v;
  }

  private double(): string {
    this.i++;
    let out = "";
    for (;;) {
      const ch = this.s[this.i];
      if (ch === undefined) throw new InvalidParameterError("unexpected end of statement while looking for matching double-quote");
      if (ch === '"') {
        this.i++;
        return out;
      }
      if (ch === "$") {
        out += this.dollar();
        continue;
      }
      if (ch === this.esc) {
        const next = this.s[this.i + 1];
        if (next === '"' || next === "$" || next === this.esc) {
          out += next;
          this.i += 2;
          continue;
        }
      }
      out += ch;
      this.i++;
    }
  }

  private dollar(): string {
    this.i++; // $
    const ch = this.peek();
    if (ch === "{") {
      this.i++;
      const name = this.name();
      if (!name) throw new InvalidParameterError(`bad substitution: missing variable name in ${this.s}`);
      const c = this.peek();
      if (c === "}") {
        this.i++;
        return this.vars.get(name) ?? "";
      }
      let op = "";
      if (c === ":") {
        op = ":";
        this.i++;
      }
      const m = this.peek();
      if (m === "-" || m === "+" || m === "?") {
        op += m;
        this.i++;
      } else throw new InvalidParameterError(`unsupported modifier (${op}${m ?? ""}) in substitution`);
      const word = this.word(true);
      if (this.peek() !== "}") throw new InvalidParameterError(`missing '}' in ${this.s}`);
      this.i++;
      const set = this.vars.has(name);
      const val = this.vars.get(name) ?? "";
      const present = op.startsWith(":") ? set && val !== "" : set;
      switch (op.replace(":", "")) {
        case "-":
          return present ? val : word;
        case "+":
          return present ? word : "";
        default:
          if (!present) throw new InvalidParameterError(`${name}: ${word || "is not allowed to be unset"}`);
          return val;
      }
    }
    const name = this.name();
    if (!name) return "$";
    return this.vars.get(name) ?? "";
  }

  private name(): string {
    const m = /^[A-Za-z_][A-Za-z0-9_]*|^[0-9*#@$?!-]/.exec(this.s.slice(this.i));
    if (!m) return "";
    this.i += m[0].length;
    return m[0];
  }
}
