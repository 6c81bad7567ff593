import type { Cli } from "./parser.ts";
import { API_VERSION, BUILD_TIME, GIT_COMMIT, VERSION } from "../version.ts";
import { goArch } from "../arch.ts";
import type { VersionResult } from "../engine/system/types.ts";
import type { JobInfo } from "../engine/job.ts";
import type { CliContext } from "./context.ts";
import { formatBytes, table } from "./render.ts";

export function registerSystem(cli: Cli, ctx: CliContext): void {
  cli.command("version", "Show the ctr version information").action(async () => {
    printClientVersion();
    const client = await ctx.client();
    const v = await client.json<VersionResult>("GET", "/version");
    printServerVersion(v);
  });

  const info = async () => {
    const client = await ctx.client();
    const i = await client.json<Record<string, any>>("GET", "/info");
    printInfo(i);
  };
  cli.command("info", "Display system-wide information").action(info);

  cli.command("system-df", "Show ctr disk usage").action(async () => {
    const client = await ctx.client();
    const d = await client.json<{ LayersSize: number; Images: { Containers: number; Size: number; SharedSize: number }[]; Containers: { State: string }[]; Volumes: { UsageData: { Size: number; RefCount: number } }[]; BuildCache?: { Size: number; InUse: boolean; Shared: boolean }[] | null }>("GET", "/system/df");
    const bc = d.BuildCache ?? [];
    const bcSize = bc.reduce((a, b) => a + b.Size, 0);
    const activeImgs = d.Images.filter((i) => i.Containers > 0).length;
    const unusedSize = d.Images.filter((i) => i.Containers === 0).reduce((a, i) => a + i.Size, 0);
    const volSize = d.Volumes.reduce((a, v) => a + v.UsageData.Size, 0);
    const pct = (x: number, t: number) => (t ? ` (${Math.round((x / t) * 100)}%)` : "");
    console.log(
      table(
        ["TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"],
        [
          ["Images", String(d.Images.length), String(activeImgs), formatBytes(d.LayersSize), `${formatBytes(unusedSize)}${pct(unusedSize, d.LayersSize)}`],
          ["Containers", String(d.Containers.length), String(d.Containers.filter((c) => c.State === "running").length), "0B", "0B"],
          ["Local Volumes", String(d.Volumes.length), String(d.Volumes.filter((v) => v.UsageData.RefCount > 0).length), formatBytes(volSize), formatBytes(d.Volumes.filter((v) => v.UsageData.RefCount === 0).reduce((a, v) => a + v.UsageData.Size, 0))],
          ["Build Cache", String(bc.length), String(bc.filter((b) => b.InUse).length), formatBytes(bcSize), formatBytes(bc.filter((b) => !b.InUse && !b.Shared).reduce((a, b) => a + b.Size, 0))],
        ],
      ),
    );
  });

  cli
    .command("jobs", "List the engine's jobs in flight and recently ended")
    .option("-a, --all", "Include ping jobs")
    .action(async (opts: { all?: boolean }) => {
      const client = await ctx.client();
      const jobs = await client.json<JobInfo[]>("GET", "/jobs", { query: { all: opts.all ? 1 : undefined } });
      console.log(
        table(
          ["ID", "NAME", "ARGS", "STATUS", "STARTED", "DURATION", "PROGRESS"],
          jobs.map((j) => [
            String(j.id),
            j.name,
            j.args.join(" ").slice(0, 40),
            j.status + (j.error ? `: ${j.error.slice(0, 40)}` : ""),
            j.startedAt,
            j.durationMs === undefined ? "-" : `${j.durationMs.toFixed(1)}ms`,
            j.progress ?? "",
          ]),
        ),
      );
    });
}

function printClientVersion(): void {
  console.log(`Client:
 Version:           ${VERSION}
 API version:       ${API_VERSION}
 Bun version:       ${Bun.version}
 Git commit:        ${GIT_COMMIT}
 Built:             ${BUILD_TIME}
 OS/Arch:           linux/${goArch()}
`);
}

function printServerVersion(v: VersionResult): void {
  const d = v.Components[0]?.Details ?? {};
  console.log(`Server: ${v.Platform.Name}
 Engine:
  Version:          ${v.Version}
  API version:      ${v.ApiVersion} (minimum version ${v.MinAPIVersion})
  Bun version:      ${v.GoVersion}
  Git commit:       ${v.GitCommit}
  Built:            ${v.BuildTime}
  OS/Arch:          ${v.Os}/${v.Arch}
  Kernel:           ${v.KernelVersion}
  Experimental:     ${d.Experimental ?? "false"}`);
}

function printInfo(i: Record<string, any>): void {
  const lines = [
    `Server:`,
    ` Containers: ${i.Containers}`,
    `  Running: ${i.ContainersRunning}`,
    `  Paused: ${i.ContainersPaused}`,
    `  Stopped: ${i.ContainersStopped}`,
    ` Images: ${i.Images}`,
    ` Server Version: ${i.ServerVersion}`,
    ` Storage Driver: ${i.Driver}`,
    ...((i.DriverStatus ?? []) as [string, string][]).map(([k, v]) => `  ${k}: ${v}`),
    ` Logging Driver: ${i.LoggingDriver}`,
    ` Cgroup Driver: ${i.CgroupDriver}`,
    ` Cgroup Version: ${i.CgroupVersion}`,
    ` Kernel Version: ${i.KernelVersion}`,
    ` Operating System: ${i.OperatingSystem}`,
    ` OSType: ${i.OSType}`,
    ` Architecture: ${i.Architecture}`,
    ` CPUs: ${i.NCPU}`,
    ` Total Memory: ${formatBytes(i.MemTotal, 1024)}`,
    ` Name: ${i.Name}`,
    ` ID: ${i.ID}`,
    ` Root Dir: ${i.DockerRootDir}`,
    ` Exec Root: ${i.CtrExecRoot}`,
    ` Schema Version: ${i.CtrSchemaVersion}`,
    ` Insecure Registries:`,
    ...((i.RegistryConfig?.InsecureRegistryCIDRs ?? []) as string[]).map((r) => `  ${r}`),
    ...Object.keys(i.RegistryConfig?.IndexConfigs ?? {}).map((r) => `  ${r}`),
  ];
  if ((i.RegistryConfig?.Mirrors ?? []).length) lines.push(` Registry Mirrors:`, ...i.RegistryConfig.Mirrors.map((m: string) => `  ${m}`));
  console.log(lines.join("\n"));
}
