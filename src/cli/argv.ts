// The parser (cac's rules, parser.ts) reads options anywhere on the line, but `ctr run IMAGE sh -c …` must
// hand everything after IMAGE (or after CONTAINER for exec) to the command.
// These helpers insert a `--` at the first positional argument(s).

export interface OptionSpec {
  /** cac-style flags (parser.ts), e.g. "-e, --env <value>" or "-d, --detach". */
  flags: string;
  description: string;
  default?: unknown;
}

/**
 * Returns argv with `--` inserted after the `positionals`-th positional
 * argument of `command` (counting the command word itself as none).
 */
export function splitAtPositionals(argv: string[], command: string, positionals: number, takesValue: Set<string>): string[] {
  const at = argv.indexOf(command);
  if (at < 0 || argv.includes("--")) return argv;
  let seen = 0;
  for (let i = at + 1; i < argv.length; i++) {
    const a = argv[i]!;
    if (a.startsWith("--")) {
      if (!a.includes("=") && takesValue.has(a)) i++;
      continue;
    }
    if (a.startsWith("-") && a.length > 1) {
      // Short flags may be bundled (-it); only the last may take a value (-p 80, -ePATH=x).
      const last = `-${a[a.length - 1]}`;
      if (a.length === 2 && takesValue.has(a)) i++;
      else if (a.length > 2 && takesValue.has(`-${a[1]}`)) {
        // -eFOO=bar: value attached
      } else if (a.length > 2 && takesValue.has(last)) i++;
      continue;
    }
    seen++;
    if (seen === positionals) return [...argv.slice(0, i + 1), "--", ...argv.slice(i + 1)];
  }
  return argv;
}

/** The parser (as cac) drops a bare `-`; it stands for stdin/stdout (`ctr cp - c:/x`, `ctr import -`), so it travels as this (guardArgs). */
export const STDIO_ARG = "\u0000-";

/** Works around two parsing quirks (cac's, kept by parser.ts) before it sees the arguments (up to a `--`). */
export function guardArgs(argv: string[]): string[] {
  const end = argv.indexOf("--");
  return argv.map((a, i) => {
    if (end >= 0 && i > end) return a;
    if (a === "-") return STDIO_ARG;
    // The parser lets `--password-stdin` swallow the next word (the server); pin its value.
    if (a === "--password-stdin") return "--password-stdin=true";
    return a;
  });
}

export const isStdio = (a: string): boolean => a === "-" || a === STDIO_ARG;
