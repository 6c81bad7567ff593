// `ctr run IMAGE CMD…`, `create` and `exec CONTAINER CMD…`: a `--` goes after the
// image (container), so the command's own flags stay the command's. Which flags take
// a value comes from the command as registered (src/cli/main.ts splitCommandArgs).
import { describe, expect, test } from "bun:test";
import { registerCommands, splitCommandArgs } from "../../../src/cli/main.ts";
import { CliContext } from "../../../src/cli/context.ts";
import { Cli } from "../../../src/cli/parser.ts";

async function cliFor(command: string): Promise<Cli> {
  const cli = new Cli("ctr");
  await registerCommands(cli, new CliContext({}), command);
  return cli;
}

describe("the container's command is split off after the image or container", () => {
  test("run: flags with values, bundled short flags, the command's own flags", async () => {
    const cli = await cliFor("run");
    expect(splitCommandArgs(["run", "-it", "-e", "A=1", "-p", "80:80", "--network", "none", "img", "sh", "-c", "ls -l"], cli)).toEqual([
      "run", "-it", "-e", "A=1", "-p", "80:80", "--network", "none", "img", "--", "sh", "-c", "ls -l",
    ]);
    expect(splitCommandArgs(["run", "--rm", "img", "--rm"], cli)).toEqual(["run", "--rm", "img", "--", "--rm"]);
    expect(splitCommandArgs(["run", "--name=x", "img"], cli)).toEqual(["run", "--name=x", "img", "--"]);
    // A line that has its `--` already is left alone.
    expect(splitCommandArgs(["run", "img", "--", "x"], cli)).toEqual(["run", "img", "--", "x"]);
  });

  test("run --detach-keys KEYS IMAGE: the keys are the flag's value, not the image (they were taken for it)", async () => {
    const cli = await cliFor("run");
    const argv = splitCommandArgs(["run", "--rm", "--detach-keys", "ctrl-a", "busybox", "true"], cli);
    expect(argv).toEqual(["run", "--rm", "--detach-keys", "ctrl-a", "busybox", "--", "true"]);
    cli.parse(["", "ctr", ...argv]);
    expect(cli.args).toEqual(["busybox"]);
    expect(cli.options).toMatchObject({ rm: true, detachKeys: "ctrl-a", "--": ["true"] });
  });

  test("exec and create take their own value flags", async () => {
    const exec = await cliFor("exec");
    expect([...exec.commands[0]!.valueFlags()].sort()).toEqual(["--detach-keys", "--env", "--user", "--workdir", "-e", "-u", "-w"]);
    expect(splitCommandArgs(["exec", "-u", "root", "-w", "/", "-it", "c1", "ls", "-l"], exec)).toEqual(["exec", "-u", "root", "-w", "/", "-it", "c1", "--", "ls", "-l"]);
    const create = await cliFor("create");
    expect(splitCommandArgs(["create", "--name", "x", "-v", "/a:/b", "img", "cmd", "--flag"], create)).toEqual(["create", "--name", "x", "-v", "/a:/b", "img", "--", "cmd", "--flag"]);
  });

  test("other commands are left alone", async () => {
    const cli = await cliFor("ps");
    expect(splitCommandArgs(["ps", "-a", "x", "y"], cli)).toEqual(["ps", "-a", "x", "y"]);
  });
});
