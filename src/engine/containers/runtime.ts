// The exec driver as the container lifecycle's Runtime: Docker records in,
// run specs out (spec.ts), processes back.
import type { ExecDriver, Restored } from "../execdriver/driver.ts";
import type { ContainerStats, ProcessHandle, Runtime } from "./ports.ts";
import { buildRunSpec, cgroupResources, ipcSpec, networkSpec, pidJoin, processGroups, resolveCaps } from "./spec.ts";
import { ConflictError } from "../errors.ts";
import { containerConfinement, containerUserns, defaultSecurity, type SecurityDefaults } from "../security/policy.ts";
import { nowRfc3339, type Container } from "./types.ts";
import { ownForUserns } from "../security/userns-ownership.ts";
import { replaceOrAppend } from "./links.ts";
import type { ExecConfig } from "./ports.ts";
import { DEFAULT_PATH_ENV } from "../default-path.ts";

/**
 * dockerd's exec environment (daemon/exec.go): PATH, HOSTNAME and, for a TTY
 * exec, TERM=xterm, under the container's Env (links included), under the exec's own.
 */
function execEnv(c: Container, e: ExecConfig): string[] {
  const base = [DEFAULT_PATH_ENV, `HOSTNAME=${c.config.Hostname}`, ...(e.Tty ? ["TERM=xterm"] : [])];
  return replaceOrAppend(replaceOrAppend(base, c.config.Env), e.Env ?? []);
}

/** An exit the keeper recorded while no daemon ran, as a process that has already ended. */
function restored(r: Restored): ProcessHandle | null {
  if (!r) return null;
  if ("proc" in r) return r.proc;
  return { pid: 0, stdin: null, stdout: null, stderr: null, exited: Promise.resolve(r.exit), kill: () => {} };
}

export function driverRuntime(driver: ExecDriver, pidOf: (ref: string) => number, security: SecurityDefaults = defaultSecurity(), liveRestore = false): Runtime {
  // A daemon that restarted knows a container's cgroup again from its record: told before any look at it.
  const placed = (c: Container) => {
    driver.place(c.id, c.hostConfig.CgroupParent || undefined);
    return c;
  };
  return {
    start: (c, ctx) => {
      const h = c.hostConfig;
      const spec = buildRunSpec(c, { ...ctx, network: networkSpec(h.NetworkMode, pidOf), ipc: ipcSpec(h.IpcMode, pidOf), joinPid: pidJoin(h.PidMode, pidOf), security });
      if (spec.userns) ownForUserns(c, ctx.dir, spec.userns);
      return driver.start(spec, { onNetns: ctx.onNetns, keep: { log: ctx.log, openStdin: c.config.OpenStdin, startedAt: nowRfc3339() } });
    },
    ...(liveRestore ? { restore: (c: Container) => restored(driver.restore(placed(c).id, c.state.Pid)) } : {}),
    exec: (c, pid, e) => {
      const [rows = 0, cols = 0] = e.ConsoleSize ?? [];
      // An exec runs under the container's seccomp filter, rlimits and no_new_privs (runc exec).
      const h = c.hostConfig;
      const { noNewPrivileges, confinement } = containerConfinement(h, resolveCaps(h.CapAdd ?? [], h.CapDrop ?? [], !!h.Privileged), security);
      return driver.exec(c.id, pid, {
        args: e.Cmd,
        env: execEnv(c, e),
        cwd: e.WorkingDir || c.config.WorkingDir || "/",
        user: e.User || c.config.User || "",
        terminal: !!e.Tty,
        ...(rows && cols ? { consoleSize: { rows, cols } } : {}),
        capabilities: resolveCaps(c.hostConfig.CapAdd ?? [], c.hostConfig.CapDrop ?? [], !!(e.Privileged || c.hostConfig.Privileged)),
        noNewPrivileges,
        confinement,
        ...processGroups(c),
        ...(containerUserns(c.id, h, security) ? { userns: true } : {}),
      });
    },
    update: async (c) => driver.update(c.id, cgroupResources(c)),
    pause: (c) => driver.pause(c.id),
    resume: (c) => driver.resume(c.id),
    stats: async (c): Promise<ContainerStats> => driver.stats(c.id),
    top: async (c) => {
      const t = driver.processes(c.id);
      if (!t.Processes.length) throw new ConflictError(`Container ${c.id} is not running`);
      return t;
    },
    cleanup: (c) => driver.cleanup(placed(c).id),
    leftovers: (c) => driver.pids(placed(c).id),
  };
}
