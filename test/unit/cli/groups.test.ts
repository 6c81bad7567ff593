// The CLI registers only the group of the command typed: the table must name
// every command a group registers, or that command would pay for all groups.
import { describe, expect, test } from "bun:test";
import { Cli } from "../../../src/cli/parser.ts";
import { COMMAND_GROUPS, registerCommands } from "../../../src/cli/main.ts";
import { CliContext } from "../../../src/cli/context.ts";

const names = (cli: Cli) => cli.commands.map((c) => c.name).filter(Boolean).sort();

describe("CLI command groups", () => {
  test("each group's table entry lists exactly the commands it registers", async () => {
    for (const g of COMMAND_GROUPS) {
      const cli = new Cli("ctr");
      (await g.load())(cli, new CliContext({}));
      expect(names(cli)).toEqual([...g.commands].sort());
    }
  });

  test("a known command registers itself only (its group's module is loaded, the others' commands not built); help registers everything", async () => {
    const one = new Cli("ctr");
    await registerCommands(one, new CliContext({}), "run");
    expect(names(one)).toEqual(["run"]);
    expect(one.commands[0]!.options.map((o) => o.name)).toContain("network");
    const all = new Cli("ctr");
    await registerCommands(all, new CliContext({}), "--help");
    expect(names(all).length).toBe(COMMAND_GROUPS.flatMap((g) => g.commands).length);
  });
});
