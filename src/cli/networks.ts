import type { Cli } from "./parser.ts";
import { list, type CliContext } from "./context.ts";
import { table } from "./render.ts";
import { forEachArg } from "./containers.ts";
import type { DockerNetwork } from "../engine/network/render.ts";

export function registerNetworks(cli: Cli, ctx: CliContext): void {
  cli
    .command("network-create <name>", "Create a network")
    .option("--subnet <cidr>", "Subnet in CIDR format")
    .option("--gateway <ip>", "IPv4 gateway for the subnet")
    .option("--internal", "Restrict external access to the network")
    .option("--label <kv>", "Set metadata on a network")
    .action(async (name: string, f: { subnet?: string; gateway?: string; internal?: boolean; label?: unknown }) => {
      const client = await ctx.client();
      const labels = Object.fromEntries(list(f.label).map((s) => [s.split("=")[0]!, s.slice(s.indexOf("=") + 1)]));
      const r = await client.json<{ Id: string }>("POST", "/networks/create", {
        body: { Name: name, Driver: "bridge", Internal: !!f.internal, Labels: labels, IPAM: { Driver: "default", Config: f.subnet ? [{ Subnet: f.subnet, Gateway: f.gateway }] : [] } },
      });
      console.log(r.Id);
    });
  cli
    .command("network-ls", "List networks")
    .option("-q, --quiet", "Only display network IDs")
    .action(async (f: { quiet?: boolean }) => {
      const client = await ctx.client();
      const nets = await client.json<DockerNetwork[]>("GET", "/networks");
      if (f.quiet) return console.log(nets.map((n) => n.Id.slice(0, 12)).join("\n"));
      console.log(table(["NETWORK ID", "NAME", "DRIVER", "SCOPE"], nets.map((n) => [n.Id.slice(0, 12), n.Name, n.Driver, n.Scope])));
    });
  cli.command("network-inspect [...networks]", "Display detailed information on one or more networks").action(async (refs: string[]) => {
    const client = await ctx.client();
    console.log(JSON.stringify(await Promise.all(refs.map((r) => client.json("GET", `/networks/${r}`))), null, 4));
  });
  cli.command("network-rm [...networks]", "Remove one or more networks").action(async (refs: string[]) => {
    const client = await ctx.client();
    await forEachArg(refs, async (r) => {
      await client.request("DELETE", `/networks/${r}`);
      console.log(r);
    });
  });
  cli.command("network-prune", "Remove all unused networks").option("-f, --force", "Do not prompt").action(async () => {
    const client = await ctx.client();
    const r = await client.json<{ NetworksDeleted: string[] | null }>("POST", "/networks/prune");
    if (r.NetworksDeleted?.length) console.log(`Deleted Networks:\n${r.NetworksDeleted.join("\n")}`);
  });
  cli
    .command("network-connect <network> <container>", "Connect a container to a network")
    .option("--alias <name>", "Add network-scoped alias for the container")
    .option("--ip <addr>", "IPv4 address")
    .action(async (net: string, container: string, f: { alias?: unknown; ip?: string }) => {
      const client = await ctx.client();
      await client.request("POST", `/networks/${net}/connect`, { body: { Container: container, EndpointConfig: { Aliases: list(f.alias), IPAMConfig: f.ip ? { IPv4Address: f.ip } : null } } });
    });
  cli.command("network-disconnect <network> <container>", "Disconnect a container from a network").action(async (net: string, container: string) => {
    const client = await ctx.client();
    await client.request("POST", `/networks/${net}/disconnect`, { body: { Container: container } });
  });
  cli.command("port <container> [port]", "List port mappings or a specific mapping for the container").action(async (id: string, port?: string) => {
    const client = await ctx.client();
    const info = await client.json<{ NetworkSettings: { Ports: Record<string, { HostIp: string; HostPort: string }[] | null> } }>("GET", `/containers/${id}/json`);
    for (const [key, binds] of Object.entries(info.NetworkSettings.Ports ?? {})) {
      if (port && key !== port && key !== `${port}/tcp`) continue;
      for (const b of binds ?? []) console.log(port ? `${b.HostIp || "0.0.0.0"}:${b.HostPort}` : `${key} -> ${b.HostIp || "0.0.0.0"}:${b.HostPort}`);
    }
  });
}
