import type { Cli } from "./parser.ts";
import { list, type CliContext } from "./context.ts";
import { formatBytes, table } from "./render.ts";
import { formatRows } from "./format.ts";
import { filterQuery } from "./container-info.ts";
import { forEachArg } from "./containers.ts";
import type { Volume } from "../engine/volumes/service.ts";

export function registerVolumes(cli: Cli, ctx: CliContext): void {
  cli
    .command("volume-create [name]", "Create a volume")
    .option("-d, --driver <driver>", "Specify volume driver name", { default: "local" })
    .option("-l, --label <kv>", "Set metadata for a volume")
    .option("-o, --opt <kv>", "Set driver specific options")
    .action(async (name: string | undefined, f: { driver: string; label?: unknown; opt?: unknown }) => {
      const client = await ctx.client();
      const kv = (vals: string[]) => Object.fromEntries(vals.map((s) => [s.split("=")[0]!, s.slice(s.indexOf("=") + 1)]));
      const v = await client.json<Volume>("POST", "/volumes/create", { body: { Name: name ?? "", Driver: f.driver, Labels: kv(list(f.label)), DriverOpts: kv(list(f.opt)) } });
      console.log(v.Name);
    });
  cli
    .command("volume-ls", "List volumes")
    .option("-q, --quiet", "Only display volume names")
    .option("-f, --filter <kv>", "Provide filter values (e.g. 'dangling=true')")
    .option("--format <template>", "Format output using a Go-like template")
    .action(async (f: { quiet?: boolean; filter?: unknown; format?: string }) => {
      const client = await ctx.client();
      const r = await client.json<{ Volumes: Volume[] }>("GET", "/volumes", { query: { filters: filterQuery(list(f.filter)) } });
      if (f.quiet) return console.log(r.Volumes.map((v) => v.Name).join("\n"));
      if (f.format) return console.log(formatRows(f.format, r.Volumes, { Name: "VOLUME NAME" }));
      console.log(table(["DRIVER", "VOLUME NAME"], r.Volumes.map((v) => [v.Driver, v.Name])));
    });
  cli.command("volume-inspect [...names]", "Display detailed information on one or more volumes").action(async (names: string[]) => {
    const client = await ctx.client();
    const out = await Promise.all(names.map((n) => client.json("GET", `/volumes/${n}`)));
    console.log(JSON.stringify(out, null, 4));
  });
  cli
    .command("volume-rm [...names]", "Remove one or more volumes")
    .option("-f, --force", "Force the removal of one or more volumes")
    .action(async (names: string[], f: { force?: boolean }) => {
      const client = await ctx.client();
      await forEachArg(names, async (n) => {
        await client.request("DELETE", `/volumes/${n}`, { query: { force: f.force ? 1 : undefined } });
        console.log(n);
      });
    });
  cli
    .command("volume-prune", "Remove unused local volumes")
    .option("-a, --all", "Remove all unused volumes, not just anonymous ones")
    .option("-f, --force", "Do not prompt for confirmation")
    .option("--filter <kv>", "Provide filter values (e.g. 'label=<label>')")
    .action(async (f: { all?: boolean; filter?: unknown }) => {
      const client = await ctx.client();
      const filters = [...list(f.filter), ...(f.all ? ["all=true"] : [])];
      const r = await client.json<{ VolumesDeleted: string[] | null; SpaceReclaimed: number }>("POST", "/volumes/prune", { query: { filters: filterQuery(filters) } });
      if (r.VolumesDeleted?.length) console.log(`Deleted Volumes:\n${r.VolumesDeleted.join("\n")}\n`);
      console.log(`Total reclaimed space: ${formatBytes(r.SpaceReclaimed)}`);
    });
}
