// `ctr update`: new limits and restart policy for containers (POST /containers/{id}/update), docker's flags.
import type { Cli } from "./parser.ts";
import type { CliContext } from "./context.ts";
import { forEachArg } from "./containers.ts";
import { parseBytes } from "../units.ts";

interface UpdateFlags {
  memory?: string | number;
  memorySwap?: string | number;
  cpus?: string | number;
  cpuShares?: string | number;
  cpuQuota?: string | number;
  cpuPeriod?: string | number;
  pidsLimit?: string | number;
  restart?: string;
}

/** The update body from the flags: only what was given (0 means "keep" to the daemon). */
export function updateBody(f: UpdateFlags): Record<string, unknown> {
  const b: Record<string, unknown> = {};
  if (f.memory !== undefined) b.Memory = parseBytes(f.memory);
  if (f.memorySwap !== undefined) b.MemorySwap = String(f.memorySwap) === "-1" ? -1 : parseBytes(f.memorySwap);
  if (f.cpus !== undefined) b.NanoCpus = Math.round(Number(f.cpus) * 1e9);
  if (f.cpuShares !== undefined) b.CpuShares = Number(f.cpuShares);
  if (f.cpuQuota !== undefined) b.CpuQuota = Number(f.cpuQuota);
  if (f.cpuPeriod !== undefined) b.CpuPeriod = Number(f.cpuPeriod);
  if (f.pidsLimit !== undefined) b.PidsLimit = Number(f.pidsLimit);
  if (f.restart) {
    const [name, max] = f.restart.split(":");
    b.RestartPolicy = { Name: name, MaximumRetryCount: max ? Number(max) : 0 };
  }
  return b;
}

export function registerUpdate(cli: Cli, ctx: CliContext): void {
  cli
    .command("update [...containers]", "Update configuration of one or more containers")
    .option("-m, --memory <bytes>", "Memory limit")
    .option("--memory-swap <bytes>", "Swap limit equal to memory plus swap: -1 to enable unlimited swap")
    .option("--cpus <n>", "Number of CPUs")
    .option("-c, --cpu-shares <n>", "CPU shares (relative weight)")
    .option("--cpu-quota <n>", "Limit CPU CFS (Completely Fair Scheduler) quota")
    .option("--cpu-period <n>", "Limit CPU CFS (Completely Fair Scheduler) period")
    .option("--pids-limit <n>", "Tune container pids limit (set -1 for unlimited)")
    .option("--restart <policy>", "Restart policy to apply when a container exits")
    .action(async (ids: string[], f: UpdateFlags) => {
      const client = await ctx.client();
      const body = updateBody(f);
      await forEachArg(ids, async (id) => {
        await client.json("POST", `/containers/${id}/update`, { body });
        console.log(id);
      });
    });
}
