import { Cli } from "./parser.ts";
import { VERSION } from "../version.ts";
import { ApiError, ConnectError } from "../client/errors.ts";
import type { CliContext } from "./context.ts";
import { guardArgs, splitAtPositionals } from "./argv.ts";

// Command modules (and the client they use) are imported only for the command
// typed: `ctr --version` loads none of them, `ctr ps` one group (issue 16).

/**
 * Everything after `run IMAGE` / `create IMAGE` / `exec CONTAINER` belongs to the
 * container's command: a `--` goes after that argument. Which flags take a value
 * (and so are not the argument) comes from the command as registered.
 */
export function splitCommandArgs(argv: string[], cli: Cli): string[] {
  if (argv[0] !== "run" && argv[0] !== "create" && argv[0] !== "exec") return argv;
  const command = cli.commands.find((c) => c.name === argv[0]);
  return command ? splitAtPositionals(argv, argv[0], 1, command.valueFlags()) : argv;
}

/** Pulls -H/--host out of argv wherever it is, so every command (and `daemon`) sees it. */
function takeHosts(argv: string[]): { hosts: string[]; rest: string[] } {
  const hosts: string[] = [];
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") {
      rest.push(...argv.slice(i));
      break;
    }
    if (a === "-H" || a === "--host") hosts.push(argv[++i] ?? "");
    else if (a.startsWith("--host=")) hosts.push(a.slice(7));
    else if (a.startsWith("-H") && a.length > 2 && !a.startsWith("-H-")) hosts.push(a.slice(2).replace(/^=/, ""));
    else rest.push(a);
  }
  return { hosts, rest };
}

/** Management commands (`container ls`, `image rm`, `network create`) map onto flat commands. */
const ALIASES: Record<string, string[]> = {
  "container ls": ["ps"],
  "container list": ["ps"],
  "container inspect": ["inspect", "--type", "container"],
  "image ls": ["images"],
  "image list": ["images"],
  "image rm": ["rmi"],
  "image inspect": ["inspect", "--type", "image"],
  "system info": ["info"],
};
const GROUPS = new Set(["container", "image", "system", "network", "volume", "builder"]);

export function rewriteGroups(argv: string[]): string[] {
  const [group, sub, ...rest] = argv;
  if (!group || !sub || !GROUPS.has(group) || sub.startsWith("-")) return argv;
  const alias = ALIASES[`${group} ${sub}`];
  if (alias) return [...alias, ...rest];
  // `container run` → `run`; otherwise `network create` → `network-create`.
  if (group === "container" && !["prune"].includes(sub)) return [sub, ...rest];
  if (group === "image" && ["pull", "push", "tag", "history", "save", "load", "import", "build"].includes(sub)) return [sub, ...rest];
  if (group === "builder" && sub === "build") return ["build", ...rest];
  return [`${group}-${sub}`, ...rest];
}

type Register = (cli: Cli, ctx: CliContext) => void;

/**
 * Command groups, the commands each registers and how to load its module. A
 * client run loads and registers only the group of the command typed (building
 * every command's options costs ~5 ms of each `ctr run`, importing them all
 * more); help, or a command missing here, gets all.
 * test/unit/cli/groups.test.ts checks this table against what registers.
 */
export const COMMAND_GROUPS: { commands: string[]; load: () => Promise<Register> }[] = [
  { commands: ["daemon"], load: async () => (await import("./daemon.ts")).registerDaemon },
  { commands: ["version", "info", "system-df", "jobs"], load: async () => (await import("./system.ts")).registerSystem },
  {
    commands: ["run", "create", "start", "stop", "restart", "kill", "pause", "unpause", "rm", "rename", "wait", "attach", "exec"],
    load: async () => (await import("./containers.ts")).registerContainers,
  },
  {
    commands: ["ps", "logs", "inspect", "top", "stats", "container-prune"],
    load: async () => (await import("./container-info.ts")).registerContainerInfo,
  },
  {
    commands: ["pull", "push", "images", "tag", "rmi", "history", "save", "load", "image-prune"],
    load: async () => (await import("./images.ts")).registerImages,
  },
  {
    commands: ["volume-create", "volume-ls", "volume-inspect", "volume-rm", "volume-prune"],
    load: async () => (await import("./volumes.ts")).registerVolumes,
  },
  {
    commands: ["network-create", "network-ls", "network-inspect", "network-rm", "network-prune", "network-connect", "network-disconnect", "port"],
    load: async () => (await import("./networks.ts")).registerNetworks,
  },
  { commands: ["events"], load: async () => (await import("./events.ts")).registerEvents },
  { commands: ["cp", "diff", "export", "commit", "import"], load: async () => (await import("./container-fs.ts")).registerContainerFs },
  { commands: ["login", "logout", "search"], load: async () => (await import("./login.ts")).registerLogin },
  { commands: ["build", "builder-prune"], load: async () => (await import("./build.ts")).registerBuild },
  { commands: ["update"], load: async () => (await import("./update.ts")).registerUpdate },
];

/** `--version` alone needs no command (the parser prints it). */
const versionOnly = (argv: string[]) => argv.length === 1 && argv[0] === "--version";

export async function registerCommands(cli: Cli, ctx: CliContext, command?: string): Promise<void> {
  const group = command && !command.startsWith("-") ? COMMAND_GROUPS.find((g) => g.commands.includes(command)) : undefined;
  if (group) cli.only(command!);
  for (const register of await Promise.all((group ? [group] : COMMAND_GROUPS).map((g) => g.load()))) register(cli, ctx);
}

export async function main(argv: string[]): Promise<void> {
  const { hosts, rest: flat } = takeHosts(argv);
  const words = rewriteGroups(flat);
  const cli = new Cli("ctr");
  cli.option("-H, --host <host>", "Daemon socket to connect to (env CTR_HOST), e.g. unix:///run/ctr/ctr.sock");
  if (!versionOnly(words)) {
    const { CliContext } = await import("./context.ts");
    await registerCommands(cli, new CliContext({ host: hosts[0] }), words[0]);
  }
  const rest = guardArgs(splitCommandArgs(words, cli));
  cli.help();
  // Only --version: -v is --volume for run/create (docker -v alone also prints the version).
  cli.version(VERSION, "--version");
  try {
    // -H goes first: after `run IMAGE --` it would become part of the container's command.
    const parsed = cli.parse(["", "ctr", ...hosts.flatMap((h) => ["--host", h]), ...rest]);
    if (!cli.matchedCommand) {
      if (parsed.options.help || parsed.options.version) return;
      if (parsed.args.length) throw new (await import("./context.ts")).CliExit(1, `unknown command: ${parsed.args[0]}\nRun 'ctr --help' for usage.`);
      cli.outputHelp();
      return;
    }
    await cli.runMatchedCommand();
    // A client command is done: do not linger on open keep-alive or wait connections.
    process.exit(0);
  } catch (e) {
    process.exit(await report(e));
  }
}

/** One line `Error: …` and an exit status; never a stack trace. */
async function report(e: unknown): Promise<number> {
  const { CliExit } = await import("./context.ts");
  if (e instanceof CliExit) {
    if (e.message) console.error(e.message.startsWith("Error") ? e.message : `Error: ${e.message}`);
    return e.code;
  }
  if (e instanceof ApiError) {
    console.error(`Error response from daemon: ${e.message}`);
    return 1;
  }
  if (e instanceof ConnectError) {
    console.error(`Error: ${e.message}`);
    return 1;
  }
  const msg = e instanceof Error ? e.message : String(e);
  console.error(`Error: ${msg}`);
  if (process.env.CTR_DEBUG) console.error(e);
  return 1;
}

