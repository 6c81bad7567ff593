// src/cli/parser.ts replaces cac for speed (issue 16) and must answer exactly as
// cac 7.1 did: for every command ctr registers, a corpus of command lines built
// from its own options (each flag alone, with values, `=`, repeated, negated,
// grouped short flags, unknown ones, dotted ones, `--`, help and version) goes
// through both, and the parse, the action's arguments or the error, and the help
// text must be the same — key order included (an unknown-option error names the
// first unknown key).
import { describe, expect, test } from "bun:test";
import { cac } from "cac";
import { COMMAND_GROUPS, registerCommands } from "../../../src/cli/main.ts";
import { CliContext } from "../../../src/cli/context.ts";
import { Cli, camelcase, removeBrackets } from "../../../src/cli/parser.ts";
import { VERSION } from "../../../src/version.ts";

type Any = any;

/** Both parsers set up as main() sets them up, with `only` registered (all commands when undefined). */
async function both(only?: string): Promise<[Any, Any]> {
  const out: Any[] = [];
  for (const cli of [cac("ctr") as Any, new Cli("ctr") as Any]) {
    cli.option("-H, --host <host>", "Daemon socket to connect to (env CTR_HOST), e.g. unix:///run/ctr/ctr.sock");
    // cac has no Cli.only: it gets every command, then keeps just the one `only` builds.
    await registerCommands(cli, new CliContext({}), cli instanceof Cli ? (only ?? "--help") : "--help");
    if (only && !(cli instanceof Cli)) cli.commands = cli.commands.filter((c: Any) => c.name === only);
    cli.help();
    cli.version(VERSION, "--version");
    // The actions would talk to a daemon: record what they are called with instead.
    for (const c of cli.commands) c.commandAction = (...a: unknown[]) => ((cli as Any).called = a);
    out.push(cli);
  }
  return out as [Any, Any];
}

/** What one command line does in a parser: the parse, then the action's arguments or the error. */
function outcome(cli: Any, argv: string[]): string {
  cli.called = undefined;
  cli.matchedCommand = cli.matchedCommandName = undefined;
  const info = console.info;
  let printed = "";
  console.info = (...a: unknown[]) => void (printed += a.join(" ") + "\n");
  try {
    const parsed = cli.parse(["", "ctr", ...argv], { run: false });
    const head = JSON.stringify({ parsed, matched: cli.matchedCommand?.name ?? null, name: cli.matchedCommandName ?? null });
    let ran: string;
    try {
      cli.runMatchedCommand();
      ran = JSON.stringify(cli.called) ?? "not called";
    } catch (e) {
      ran = `threw ${(e as Error).message}`;
    }
    return `${head}\n${ran}\n${printed}`;
  } finally {
    console.info = info;
  }
}

/** The flags as typed: `-e, --env <value>` → ["-e", "--env"]. */
function flagsOf(rawName: string): string[] {
  return rawName
    .split(/[<[]/)[0]!
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
}

/** Command lines for one command from its own options. */
function corpus(command: Any): string[][] {
  const name: string = command.name;
  const lines: string[][] = [[name], [name, "a"], [name, "a", "b"], [name, "a", "b", "c"], [name, "a", "--", "-x", "y"], [name, "--", "a"]];
  const shorts: string[] = [];
  for (const o of command.options) {
    for (const f of flagsOf(o.rawName)) {
      lines.push([name, f], [name, f, "v"], [name, f, "5"], [name, f, ""], [name, f, "-x"], [name, `${f}=v`], [name, `${f}=`], [name, f, "v", f, "w"]);
      lines.push([name, "a", f, "v", "b"], [name, f, "true"], [name, f, "false"], [name, f, "v", "--", "z"]);
      if (f.startsWith("--") && !f.startsWith("--no-")) lines.push([name, `--no-${f.slice(2)}`], [name, `--no-${f.slice(2)}`, "v"]);
      if (/^-[A-Za-z]$/.test(f)) shorts.push(f.slice(1));
    }
  }
  if (shorts.length) lines.push([name, `-${shorts.join("")}`], [name, `-${shorts.slice(0, 2).join("")}`, "v"], [name, `-${shorts.slice(0, 2).join("")}=v`]);
  for (const odd of [["--bogus"], ["-Z"], ["--bogus", "x", "--other"], ["--a.b", "x"], ["--a.0", "x"], ["--__proto__", "x"], ["--constructor", "x"], ["--no-bogus"], ["-"], ["---x"]]) {
    lines.push([name, ...odd]);
  }
  lines.push([name, "--help"], [name, "-h"], [name, "--version"], [name, "--help", "--version"], ["--host", "h", name], ["-H", "h", name, "a"]);
  return lines;
}

const commands = COMMAND_GROUPS.flatMap((g) => g.commands);

describe("the CLI parser answers as cac did", () => {
  test.each(commands)("%s: every corpus line parses, runs or fails alike", async (name) => {
    const [theirs, ours] = await both(name);
    expect(ours.commands.map((c: Any) => c.name)).toEqual([name]);
    const lines = corpus(theirs.commands[0]);
    expect(lines.length).toBeGreaterThan(20);
    for (const argv of lines) expect({ argv, got: outcome(ours, argv) }).toEqual({ argv, got: outcome(theirs, argv) });
  });

  test("help of every command and the global help, the version and unknown commands with all commands registered", async () => {
    const [theirs, ours] = await both();
    expect(ours.commands.length).toBe(commands.length);
    const lines = [[], ["--help"], ["-h"], ["--version"], ["nope"], ["--bogus"], ["-H", "x"], ...commands.map((c) => [c, "--help"])];
    for (const argv of lines) expect({ argv, got: outcome(ours, argv) }).toEqual({ argv, got: outcome(theirs, argv) });
    // The help really is printed (not two empty outputs agreeing).
    expect(outcome(ours, ["ps", "--help"])).toContain("--no-trunc");
    expect(outcome(ours, ["--help"])).toContain("For more info, run any command with the `--help` flag");
  });
});

describe("the name helpers answer as cac's regular expressions", () => {
  test("camelcase: every string of up to 6 characters from a, b, z, B, _ and -", () => {
    const cacCamelcase = (s: string) => s.replaceAll(/([a-z])-([a-z])/g, (_, a: string, b: string) => a + b.toUpperCase());
    const alphabet = ["a", "b", "z", "B", "_", "-"];
    let words = [""];
    for (let len = 1; len <= 6; len++) {
      words = words.flatMap((w) => (w.length === len - 1 ? alphabet.map((c) => w + c) : [])).concat(words);
      for (const w of words) if (w.length === len) expect([w, camelcase(w)]).toEqual([w, cacCamelcase(w)]);
    }
  });

  test("removeBrackets", () => {
    const cacRemoveBrackets = (v: string) => v.replace(/[<[].+/, "").trim();
    for (const s of ["a <b>", "a [b]", "a <", "a [", "<", "[", "x [y] <z>", "x <y> [z]", " -a, --all ", "a<b", "a [b", "ab", "<>", "--no-x"]) {
      expect([s, removeBrackets(s)]).toEqual([s, cacRemoveBrackets(s)]);
    }
  });
});
