import type { Cli } from "./parser.ts";
import { Demuxer } from "../server/stdcopy.ts";
import { ApiError } from "../client/errors.ts";
import { CliExit, list, type CliContext } from "./context.ts";
import { ago, formatBytes, table } from "./render.ts";
import { formatRows, renderTemplate } from "./format.ts";

interface PsRow {
  Id: string;
  Names: string[];
  Image: string;
  Command: string;
  Created: number;
  Status: string;
  State: string;
  Ports: { IP?: string; PrivatePort: number; PublicPort?: number; Type: string }[];
  Labels: Record<string, string>;
  NetworkSettings?: { Networks?: Record<string, unknown> };
}

export function portsText(ports: PsRow["Ports"]): string {
  return ports
    .map((p) => (p.PublicPort ? `${p.IP ?? "0.0.0.0"}:${p.PublicPort}->${p.PrivatePort}/${p.Type}` : `${p.PrivatePort}/${p.Type}`))
    .join(", ");
}

function truncate(s: string, n: number): string {
  return s.length > n ? s.slice(0, n - 1) + "…" : s;
}

/** The fields docker's `ps --format` templates see. */
function psFields(c: PsRow) {
  return {
    ID: c.Id.slice(0, 12),
    Image: c.Image,
    Command: `"${truncate(c.Command, 20)}"`,
    CreatedAt: new Date(c.Created * 1000).toISOString(),
    RunningFor: ago(c.Created),
    Ports: portsText(c.Ports),
    State: c.State,
    Status: c.Status,
    Names: c.Names.map((n) => n.slice(1)).join(","),
    Labels: Object.entries(c.Labels ?? {}).map(([k, v]) => `${k}=${v}`).join(","),
    Networks: Object.keys(c.NetworkSettings?.Networks ?? {}).join(","),
    Mounts: "",
    LocalVolumes: "0",
    Size: "",
  };
}

function filterQuery(vals: string[]): string | undefined {
  if (!vals.length) return undefined;
  const f: Record<string, string[]> = {};
  for (const v of vals) {
    const i = v.indexOf("=");
    if (i < 0) throw new CliExit(1, `bad format of filter (expected name=value)`);
    (f[v.slice(0, i)] ??= []).push(v.slice(i + 1));
  }
  return JSON.stringify(f);
}

export { filterQuery };

export function registerContainerInfo(cli: Cli, ctx: CliContext): void {
  const ps = async (f: { all?: boolean; quiet?: boolean; filter?: unknown; format?: string; last?: number; latest?: boolean; noTrunc?: boolean }) => {
    const client = await ctx.client();
    const rows = await client.json<PsRow[]>("GET", "/containers/json", {
      query: { all: f.all ? 1 : undefined, limit: f.latest ? 1 : f.last, filters: filterQuery(list(f.filter)) },
    });
    if (f.quiet) return console.log(rows.map((r) => (f.noTrunc ? r.Id : r.Id.slice(0, 12))).join("\n") || "");
    if (f.format) return console.log(formatRows(f.format, rows.map(psFields), { ID: "CONTAINER ID", RunningFor: "CREATED", CreatedAt: "CREATED AT" }));
    console.log(
      table(
        ["CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"],
        rows.map((r) => {
          const x = psFields(r);
          return [f.noTrunc ? r.Id : x.ID, x.Image, x.Command, x.RunningFor, x.Status, x.Ports, x.Names];
        }),
      ),
    );
  };
  {
    cli
      .command("ps", "List containers")
      .option("-a, --all", "Show all containers (default shows just running)")
      .option("-q, --quiet", "Only display container IDs")
      .option("-f, --filter <filter>", "Filter output based on conditions provided")
      .option("--format <template>", "Format output using a Go-like template")
      .option("-n, --last <n>", "Show n last created containers")
      .option("-l, --latest", "Show the latest created container")
      .option("--no-trunc", "Don't truncate output")
      .action(ps);
  }

  cli
    .command("logs <container>", "Fetch the logs of a container")
    .option("-f, --follow", "Follow log output")
    .option("--tail <n>", "Number of lines to show from the end of the logs", { default: "all" })
    .option("--since <t>", "Show logs since timestamp or relative (e.g. 42m)")
    .option("--until <t>", "Show logs before a timestamp or relative")
    .option("-t, --timestamps", "Show timestamps")
    .action(async (id: string, f: { follow?: boolean; tail?: string; since?: string; until?: string; timestamps?: boolean }) => {
      const client = await ctx.client();
      const info = await client.json<{ Id: string; Config: { Tty: boolean } }>("GET", `/containers/${id}/json`);
      const res = await client.request("GET", `/containers/${info.Id}/logs`, {
        query: { stdout: 1, stderr: 1, follow: f.follow ? 1 : undefined, tail: String(f.tail ?? "all"), since: relTime(f.since), until: relTime(f.until), timestamps: f.timestamps ? 1 : undefined },
      });
      const demux = info.Config.Tty ? null : new Demuxer((s, p) => (s === 2 ? process.stderr : process.stdout).write(p));
      for await (const chunk of res.body!) demux ? demux.push(chunk) : process.stdout.write(chunk);
    });

  cli
    .command("inspect [...objects]", "Return low-level information on containers, images, networks or volumes")
    .option("-f, --format <template>", "Format output using a Go-like template")
    .option("--type <type>", "Only inspect objects of the given type")
    .action(async (refs: string[], f: { format?: string; type?: string }) => {
      const client = await ctx.client();
      const kinds = f.type ? [f.type] : ["container", "image", "network", "volume"];
      const paths: Record<string, (r: string) => string> = {
        container: (r) => `/containers/${r}/json`,
        image: (r) => `/images/${r}/json`,
        network: (r) => `/networks/${r}`,
        volume: (r) => `/volumes/${r}`,
      };
      const out: unknown[] = [];
      let failed = false;
      for (const ref of refs) {
        let found: unknown;
        for (const k of kinds) {
          try {
            found = await client.json("GET", paths[k]!(ref));
            break;
          } catch (e) {
            if (!(e instanceof ApiError) || e.status !== 404) throw e;
          }
        }
        if (found === undefined) {
          failed = true;
          console.error(`Error: No such object: ${ref}`);
        } else out.push(found);
      }
      if (f.format) console.log(out.map((o) => renderTemplate(f.format!, o)).join("\n"));
      else console.log(JSON.stringify(out, null, 4));
      if (failed) throw new CliExit(1);
    });

  cli.command("top <container> [...psArgs]", "Display the running processes of a container").action(async (id: string, psArgs: string[]) => {
    const client = await ctx.client();
    const r = await client.json<{ Titles: string[]; Processes: string[][] }>("GET", `/containers/${id}/top`, { query: { ps_args: psArgs.length ? psArgs.join(" ") : undefined } });
    console.log(table(r.Titles, r.Processes));
  });

  cli
    .command("stats [...containers]", "Display a live stream of container(s) resource usage statistics")
    .option("--no-stream", "Disable streaming stats and only pull the first result")
    .option("-a, --all", "Show all containers (default shows just running)")
    .action(async (ids: string[], f: { stream?: boolean; all?: boolean }) => {
      const client = await ctx.client();
      if (!ids.length) ids = (await client.json<PsRow[]>("GET", "/containers/json", { query: { all: f.all ? 1 : undefined } })).map((r) => r.Id);
      const render = async () => {
        const rows = await Promise.all(ids.map((id) => client.json<Record<string, any>>("GET", `/containers/${id}/stats`, { query: { stream: 0 } })));
        return table(
          ["CONTAINER ID", "NAME", "CPU %", "MEM USAGE / LIMIT", "MEM %", "NET I/O", "BLOCK I/O", "PIDS"],
          rows.map((s) => statsRow(s)),
        );
      };
      if (f.stream === false) return console.log(await render());
      for (;;) {
        const out = await render();
        process.stdout.write(`\x1b[2J\x1b[H${out}\n`);
      }
    });

  cli.command("container-prune", "Remove all stopped containers").option("-f, --force", "Do not prompt for confirmation").action(async () => {
    const client = await ctx.client();
    const r = await client.json<{ ContainersDeleted: string[] | null; SpaceReclaimed: number }>("POST", "/containers/prune");
    if (r.ContainersDeleted?.length) console.log(`Deleted Containers:\n${r.ContainersDeleted.join("\n")}\n`);
    console.log(`Total reclaimed space: ${r.SpaceReclaimed}B`);
  });
}

/** One `docker stats` row from the API's stats JSON (CPU % from the precpu sample, as the docker CLI does). */
export function statsRow(s: Record<string, any>): string[] {
  const cpuDelta = (s.cpu_stats?.cpu_usage?.total_usage ?? 0) - (s.precpu_stats?.cpu_usage?.total_usage ?? 0);
  const sysDelta = (s.cpu_stats?.system_cpu_usage ?? 0) - (s.precpu_stats?.system_cpu_usage ?? 0);
  const cpus = s.cpu_stats?.online_cpus || 1;
  const cpu = sysDelta > 0 && cpuDelta > 0 ? (cpuDelta / sysDelta) * cpus * 100 : 0;
  const ms = s.memory_stats ?? {};
  const used = (ms.usage ?? 0) - (ms.stats?.total_inactive_file ?? ms.stats?.inactive_file ?? 0);
  const limit = ms.limit ?? 0;
  const blk = (op: string) => (s.blkio_stats?.io_service_bytes_recursive ?? []).filter((e: any) => e.op?.toLowerCase() === op).reduce((a: number, e: any) => a + e.value, 0);
  return [
    String(s.id ?? "").slice(0, 12),
    String(s.name ?? "").replace(/^\//, ""),
    `${cpu.toFixed(2)}%`,
    `${formatBytes(used, 1024)} / ${formatBytes(limit, 1024)}`,
    `${limit ? ((used / limit) * 100).toFixed(2) : "0.00"}%`,
    "0B / 0B",
    `${formatBytes(blk("read"))} / ${formatBytes(blk("write"))}`,
    String(s.pids_stats?.current ?? 0),
  ];
}

/** docker's --since/--until: "42m" relative, else passed through (unix seconds or RFC 3339). */
export function relTime(v: string | undefined): string | undefined {
  if (!v) return undefined;
  const m = /^(\d+(?:\.\d+)?)(s|m|h)$/.exec(v);
  if (!m) return v;
  const secs = Number(m[1]) * { s: 1, m: 60, h: 3600 }[m[2] as "s"];
  return String(Math.floor(Date.now() / 1000 - secs));
}
