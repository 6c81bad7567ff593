// The CLI's commands and options: the part of cac's API ctr uses (command, option,
// action, help, version, parse, runMatchedCommand, outputHelp), with cac 7.1's
// behaviour, on mri (the parser cac itself bundles, mri 1.2.0).
//
// Why not cac itself (issue 16): in a fresh process every line runs for the first
// time, and cac's way costs: each option's name goes through four regular expressions
// and a sort, the parse re-spreads the whole result object once per key, checks every
// option against every other, and dispatches CustomEvents through an EventTarget.
// Measured in a compiled program: cac took 1.3–1.5 ms of `ctr ps` (7 options) and
// 1.8–3.4 ms of `ctr run` (46) before the first request. Here names are cut with
// string operations and each step walks the options once.
// test/unit/cli/parser.test.ts holds it to cac's answers (parse, errors, help) for
// every command ctr registers.
import mri from "mri";

/** What cac threw for a bad command line (the CLI prints its message). */
export class UsageError extends Error {
  override name = "UsageError";
}

export interface OptionConfig {
  default?: unknown;
}

// Each of these runs interpreted (a fresh process), ~50 times for `run`: they find the
// characters with indexOf (native) rather than walking the string in JS (issue 16).

/** The text before the first `<`/`[` that has something after it (cac's removeBrackets). */
export function removeBrackets(v: string): string {
  const a = v.indexOf("<");
  const b = v.indexOf("[");
  const i = a < 0 ? b : b < 0 ? a : Math.min(a, b);
  return (i >= 0 && i < v.length - 1 ? v.slice(0, i) : v).trim();
}

const isLower = (c: string | undefined) => c !== undefined && c >= "a" && c <= "z";

/** `no-trunc` → `noTrunc`: each letter-dash-letter, left to right, not overlapping (cac's camelcase). */
export function camelcase(s: string): string {
  let dash = s.indexOf("-");
  if (dash < 0) return s;
  let out = "";
  let from = 0;
  for (; dash >= 0; dash = s.indexOf("-", dash + 1)) {
    // A match needs its letter before the dash unused by the previous match.
    if (dash - 1 < from || !isLower(s[dash - 1]) || !isLower(s[dash + 1])) continue;
    out += s.slice(from, dash) + s[dash + 1]!.toUpperCase();
    from = dash + 2;
    dash++;
  }
  return out + s.slice(from);
}

/** Dotted names (`--a.b-c`) camelcase only their first part. */
function camelcaseOptionName(name: string): string {
  const dot = name.indexOf(".");
  return dot < 0 ? camelcase(name) : camelcase(name.slice(0, dot)) + name.slice(dot);
}

function stripDashes(name: string): string {
  if (name.startsWith("--")) return name.slice(2);
  return name.startsWith("-") ? name.slice(1) : name;
}

export class Option {
  /** Names without dashes, camelCased, shortest first. */
  readonly names: string[];
  /** The flags as typed (`-e`, `--env`). */
  readonly flags: string[] = [];
  /** The longest name: the key of the parsed value. */
  readonly name: string;
  readonly negated: boolean;
  /** true: takes a `<value>`; false: an optional `[value]`; undefined: a flag. */
  readonly required?: boolean;
  readonly isBoolean?: boolean;
  readonly config: OptionConfig;

  constructor(
    readonly rawName: string,
    readonly description: string,
    config?: OptionConfig,
  ) {
    this.config = config ? { ...config } : {};
    const raw = rawName.includes(".*") ? rawName.replaceAll(".*", "") : rawName;
    // Plain loops: in a fresh process this runs interpreted, ~50 times for `run` (issue 16).
    const names: string[] = [];
    let negated = false;
    for (const part of removeBrackets(raw).split(",")) {
      const flag = part.trim();
      this.flags.push(flag);
      let name = stripDashes(flag);
      if (name.startsWith("no-")) {
        negated = true;
        name = name.slice(3);
      }
      name = camelcaseOptionName(name);
      // Shortest first, in order among equals (a stable sort by length).
      let at = names.length;
      while (at > 0 && names[at - 1]!.length > name.length) at--;
      names.splice(at, 0, name);
    }
    this.names = names;
    this.negated = negated;
    this.name = names[names.length - 1]!;
    if (negated && this.config.default == null) this.config.default = true;
    if (raw.includes("<")) this.required = true;
    else if (raw.includes("[")) this.required = false;
    else this.isBoolean = true;
  }
}

interface Arg {
  required: boolean;
  value: string;
  variadic: boolean;
}

/** `<a>` arguments, then `[b]` ones, as cac lists them. */
function findAllBrackets(v: string): Arg[] {
  const res: Arg[] = [];
  for (const [open, close] of [["<", ">"], ["[", "]"]] as const) {
    for (let from = 0; ; ) {
      const i = v.indexOf(open, from);
      if (i < 0) break;
      const j = v.indexOf(close, i + 1);
      if (j < 0) break;
      if (j === i + 1) {
        from = i + 1;
        continue;
      }
      const value = v.slice(i + 1, j);
      const variadic = value.startsWith("...");
      res.push({ required: open === "<", value: variadic ? value.slice(3) : value, variadic });
      from = j + 1;
    }
  }
  return res;
}

type Action = (...args: any[]) => unknown;

export class Command {
  readonly options: Option[] = [];
  readonly name: string;
  readonly args: Arg[];
  commandAction?: Action;
  usageText?: string;
  versionNumber?: string;

  constructor(
    readonly rawName: string,
    readonly description: string,
    readonly cli: Cli,
  ) {
    this.name = removeBrackets(rawName);
    this.args = findAllBrackets(rawName);
  }

  usage(text: string): this {
    this.usageText = text;
    return this;
  }

  option(rawName: string, description: string, config?: OptionConfig): this {
    this.options.push(new Option(rawName, description, config));
    return this;
  }

  action(callback: Action): this {
    this.commandAction = callback;
    return this;
  }

  get isDefaultCommand(): boolean {
    return this.name === "";
  }

  get isGlobalCommand(): boolean {
    return this === this.cli.globalCommand;
  }

  /** The flags that take a value (`-e`, `--env`, …): what follows one is its value, not an argument. */
  valueFlags(): Set<string> {
    const out = new Set<string>();
    for (const o of this.options) if (!o.isBoolean) for (const f of o.flags) out.add(f);
    return out;
  }

  hasOption(name: string): Option | undefined {
    const key = name.split(".", 1)[0]!;
    return this.options.find((o) => o.names.includes(key));
  }

  outputHelp(): void {
    const { name, commands, globalCommand } = this.cli;
    const sections: { title?: string; body: string }[] = [{ body: `${name}${globalCommand.versionNumber ? `/${globalCommand.versionNumber}` : ""}` }];
    sections.push({ title: "Usage", body: `  $ ${name} ${this.usageText || this.rawName}` });
    if ((this.isGlobalCommand || this.isDefaultCommand) && commands.length > 0) {
      const width = longest(commands.map((c) => c.rawName));
      sections.push(
        { title: "Commands", body: commands.map((c) => `  ${c.rawName.padEnd(width)}  ${c.description}`).join("\n") },
        {
          title: "For more info, run any command with the `--help` flag",
          body: commands.map((c) => `  $ ${name}${c.name === "" ? "" : ` ${c.name}`} --help`).join("\n"),
        },
      );
    }
    let options = this.isGlobalCommand ? globalCommand.options : [...this.options, ...globalCommand.options];
    if (!this.isGlobalCommand && !this.isDefaultCommand) options = options.filter((o) => o.name !== "version");
    if (options.length > 0) {
      const width = longest(options.map((o) => o.rawName));
      const line = (o: Option) => `  ${o.rawName.padEnd(width)}  ${o.description} ${o.config.default === undefined ? "" : `(default: ${o.config.default})`}`;
      sections.push({ title: "Options", body: options.map(line).join("\n") });
    }
    console.info(sections.map((s) => (s.title ? `${s.title}:\n${s.body}` : s.body)).join("\n\n"));
  }

  /** Unknown options, options missing their value, too few or too many arguments. */
  check(args: string[], parsed: Record<string, unknown>): void {
    const global = this.cli.globalCommand;
    for (const name of Object.keys(parsed)) {
      if (name !== "--" && !this.hasOption(name) && !global.hasOption(name)) throw new UsageError(`Unknown option \`${name.length > 1 ? `--${name}` : `-${name}`}\``);
    }
    const all = [...global.options, ...this.options];
    for (const o of all) {
      if (!o.required) continue;
      const value = parsed[o.name.split(".", 1)[0]!];
      if (value === true || (value === false && !all.some((n) => n.negated && n.names.includes(o.name)))) throw new UsageError(`option \`${o.rawName}\` value is missing`);
    }
    if (args.length < this.args.filter((a) => a.required).length) throw new UsageError(`missing required args for command \`${this.rawName}\``);
    const most = this.args.some((a) => a.variadic) ? Infinity : this.args.length;
    if (most < args.length) throw new UsageError(`Unused args: ${args.slice(most).map((a) => `\`${a}\``).join(", ")}`);
  }
}

/** The first longest string's length (cac's findLongest). */
function longest(xs: string[]): number {
  let n = 0;
  for (const x of xs) n = Math.max(n, x.length);
  return n;
}

/** What command() gives for a command not built (Cli.only): every builder call is a no-op. */
const IGNORED: Command = { option: () => IGNORED, action: () => IGNORED, usage: () => IGNORED } as unknown as Command;

export interface ParsedArgv {
  args: unknown[];
  options: Record<string, any>;
}

export class Cli {
  readonly commands: Command[] = [];
  readonly globalCommand: Command;
  matchedCommand?: Command;
  matchedCommandName?: string;
  args: unknown[] = [];
  options: Record<string, any> = {};
  private onlyName?: string;
  private showHelpOnExit = false;
  private showVersionOnExit = false;

  constructor(readonly name: string) {
    this.globalCommand = new Command("@@global@@", "", this);
    this.globalCommand.usage("<command> [options]");
  }

  /**
   * Builds only the command `name`: the others' command() calls get an inert
   * builder. A command line needs only its own command, and building the rest of
   * its group (run and create carry ~50 options each) is most of a start's parse.
   */
  only(name: string): this {
    this.onlyName = name;
    return this;
  }

  command(rawName: string, description = ""): Command {
    if (this.onlyName !== undefined && rawName.split(" ")[0] !== this.onlyName) return IGNORED;
    const c = new Command(rawName, description, this);
    this.commands.push(c);
    return c;
  }

  option(rawName: string, description: string, config?: OptionConfig): this {
    this.globalCommand.option(rawName, description, config);
    return this;
  }

  help(): this {
    this.globalCommand.option("-h, --help", "Display this message");
    this.showHelpOnExit = true;
    return this;
  }

  version(version: string, flags = "-v, --version"): this {
    this.globalCommand.versionNumber = version;
    this.globalCommand.option(flags, "Display version number");
    this.showVersionOnExit = true;
    return this;
  }

  outputHelp(): void {
    (this.matchedCommand ?? this.globalCommand).outputHelp();
  }

  outputVersion(): void {
    const v = this.globalCommand.versionNumber;
    if (v) console.info(`${this.name}/${v} ${process.platform}-${process.arch} bun-${process.version}`);
  }

  /** argv as process.argv has it (two words before the command); the action runs only in runMatchedCommand. */
  parse(argv: string[]): ParsedArgv {
    let matched = false;
    for (const command of this.commands) {
      const parsed = this.mri(argv.slice(2), command);
      const name = parsed.args[0];
      if (command.name === name) {
        matched = true;
        this.args = parsed.args.slice(1);
        this.options = parsed.options;
        this.matchedCommand = command;
        this.matchedCommandName = name as string;
      }
    }
    if (!matched) {
      for (const command of this.commands) {
        if (!command.isDefaultCommand) continue;
        matched = true;
        const parsed = this.mri(argv.slice(2), command);
        this.args = parsed.args;
        this.options = parsed.options;
        this.matchedCommand = command;
      }
    }
    if (!matched) {
      const parsed = this.mri(argv.slice(2));
      this.args = parsed.args;
      this.options = parsed.options;
    }
    if (this.options.help && this.showHelpOnExit) {
      this.outputHelp();
      this.matchedCommand = this.matchedCommandName = undefined;
    }
    if (this.options.version && this.showVersionOnExit && this.matchedCommandName == null) {
      this.outputVersion();
      this.matchedCommand = this.matchedCommandName = undefined;
    }
    return { args: this.args, options: this.options };
  }

  private mri(argv: string[], command?: Command): ParsedArgv {
    const all = command ? [...this.globalCommand.options, ...command.options] : this.globalCommand.options;
    let rest: string[] = [];
    const dashes = argv.indexOf("--");
    if (dashes !== -1) {
      rest = argv.slice(dashes + 1);
      argv = argv.slice(0, dashes);
    }
    const raw = mri(argv, mriOptions(all)) as Record<string, unknown> & { _: unknown[] };
    // Keys camelCased (a later key that camelCases alike wins), as cac does.
    const parsed: Record<string, unknown> = { _: [] };
    for (const k of Object.keys(raw)) parsed[camelcaseOptionName(k)] = raw[k];
    const options: Record<string, unknown> = { "--": rest };
    for (const o of all) {
      if (o.config.default !== undefined) for (const n of o.names) options[n] = o.config.default;
    }
    for (const [key, value] of Object.entries(parsed)) if (key !== "_") setDotProp(options, key.split("."), value);
    return { args: parsed._ as unknown[], options };
  }

  /** Checks the matched command's line and calls its action with its arguments and the options. */
  runMatchedCommand(): unknown {
    const command = this.matchedCommand;
    if (!command?.commandAction) return;
    const args = this.args as string[];
    command.check(args, this.options);
    const actionArgs: unknown[] = command.args.map((a, i) => (a.variadic ? args.slice(i) : args[i]));
    actionArgs.push(this.options);
    return command.commandAction.apply(this, actionArgs);
  }
}

/** mri's view of the options: aliases of each first name, and the flags (a negated one only when no value option shares its name). */
function mriOptions(options: Option[]): { alias: Record<string, string[]>; boolean: string[] } {
  const alias: Record<string, string[]> = Object.create(null);
  const boolean: string[] = [];
  options.forEach((o, index) => {
    if (o.names.length > 1) alias[o.names[0]!] = o.names.slice(1);
    if (!o.isBoolean) return;
    if (o.negated && options.some((x, i) => i !== index && typeof x.required === "boolean" && x.names.some((n) => o.names.includes(n)))) return;
    boolean.push(o.names[0]!);
  });
  return { alias, boolean };
}

const UNSAFE_KEYS = new Set(["__proto__", "constructor", "prototype"]);

/** `--a.b x` → options.a.b = x (a numeric next key makes an array), as cac does. */
function setDotProp(obj: Record<string, any>, keys: string[], val: unknown): void {
  if (keys.some((k) => UNSAFE_KEYS.has(k))) return;
  let current = obj;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    if (i === keys.length - 1) {
      current[key] = val;
      return;
    }
    if (current[key] == null) current[key] = +keys[i + 1]! > -1 ? [] : {};
    current = current[key];
  }
}
