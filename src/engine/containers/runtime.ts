// The exec driver as the container lifecycle's Runtime: Docker records in,
// run specs out (spec.ts), processes back.
import type { ExecDriver } from "../execdriver/driver.ts";
import type { ContainerStats, Runtime } from "./ports.ts";
import { buildRunSpec, networkSpec, resolveCaps } from "./spec.ts";
import { ConflictError } from "../errors.ts";

export function driverRuntime(driver: ExecDriver, pidOf: (ref: string) => number): Runtime {
  return {
    start: (c, ctx) => {
      const spec = buildRunSpec(c, { ...ctx, network: networkSpec(c.hostConfig.NetworkMode, pidOf) });
      return driver.start(spec, { onNetns: ctx.onNetns });
    },
    exec: (c, pid, e) => {
      const [rows = 0, cols = 0] = e.ConsoleSize ?? [];
      return driver.exec(c.id, pid, {
        args: e.Cmd,
        env: [...c.config.Env, ...(e.Env ?? [])],
        cwd: e.WorkingDir || c.config.WorkingDir || "/",
        user: e.User || c.config.User || "",
        terminal: !!e.Tty,
        ...(rows && cols ? { consoleSize: { rows, cols } } : {}),
        capabilities: resolveCaps(c.hostConfig.CapAdd ?? [], c.hostConfig.CapDrop ?? [], !!(e.Privileged || c.hostConfig.Privileged)),
        noNewPrivileges: !c.hostConfig.Privileged,
      });
    },
    pause: (c) => driver.pause(c.id),
    resume: (c) => driver.resume(c.id),
    stats: async (c): Promise<ContainerStats> => driver.stats(c.id),
    top: async (c) => {
      const t = driver.processes(c.id);
      if (!t.Processes.length) throw new ConflictError(`Container ${c.id} is not running`);
      return t;
    },
    cleanup: (c) => driver.cleanup(c.id),
  };
}
