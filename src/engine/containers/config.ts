import { InvalidParameterError } from "../errors.ts";
import { mergeHealthcheck, validateHealthcheck } from "./health.ts";
import type { ImageInfo } from "./ports.ts";
import type { ContainerConfig, HostConfig, RestartPolicy } from "./types.ts";
import { ACCEPTED_RUNTIMES } from "./host-config-view.ts";
import { DEFAULT_PATH_ENV } from "../default-path.ts";

export interface CreateRequest {
  name?: string;
  body: Record<string, unknown>;
}


/** Env lists merged by key, later wins, order kept (Docker's ReplaceOrAppendEnvValues). */
export function mergeEnv(base: string[], over: string[]): string[] {
  const out = new Map<string, string>();
  for (const e of [...base, ...over]) out.set(e.split("=")[0]!, e);
  return [...out.values()];
}

/** dockerd's create-time merge (daemon/commit.go merge): the user's list, then image entries it does not set. */
function userFirstEnv(user: string[], image: string[]): string[] {
  if (!user.length) return [...image];
  const keys = new Set(user.map((e) => e.split("=")[0]!));
  return [...user, ...image.filter((e) => !keys.has(e.split("=")[0]!))];
}

/**
 * The container's Config: the request over the image's config, as dockerd
 * merges them. A user entrypoint drops the image's Cmd.
 */
export function mergeConfig(req: Partial<ContainerConfig>, image: ImageInfo, imageRef: string): ContainerConfig {
  const ic = image.config;
  const userEntrypoint = req.Entrypoint !== undefined && req.Entrypoint !== null;
  const entrypoint = userEntrypoint ? (req.Entrypoint!.length === 1 && req.Entrypoint![0] === "" ? null : req.Entrypoint!) : (ic.Entrypoint ?? null);
  const cmd = req.Cmd && req.Cmd.length ? req.Cmd : userEntrypoint ? null : (ic.Cmd ?? null);
  const imageEnv = ic.Env?.length ? ic.Env : [DEFAULT_PATH_ENV];
  return {
    Hostname: req.Hostname ?? "",
    Domainname: req.Domainname ?? "",
    User: req.User || ic.User || "",
    AttachStdin: !!req.AttachStdin,
    AttachStdout: req.AttachStdout ?? false,
    AttachStderr: req.AttachStderr ?? false,
    // dockerd omits ExposedPorts when nothing is exposed.
    ...(Object.keys({ ...ic.ExposedPorts, ...req.ExposedPorts }).length ? { ExposedPorts: { ...(ic.ExposedPorts ?? {}), ...(req.ExposedPorts ?? {}) } } : {}),
    Tty: !!req.Tty,
    OpenStdin: !!req.OpenStdin,
    StdinOnce: !!req.StdinOnce,
    Env: userFirstEnv(req.Env ?? [], imageEnv),
    Cmd: cmd,
    Image: imageRef,
    // dockerd answers null, not {}, when neither the image nor the request names a volume.
    Volumes: orNull({ ...(ic.Volumes ?? {}), ...(req.Volumes ?? {}) }),
    WorkingDir: req.WorkingDir || ic.WorkingDir || "",
    Entrypoint: entrypoint,
    OnBuild: null,
    Labels: { ...(ic.Labels ?? {}), ...(req.Labels ?? {}) },
    // API < 1.44 clients set the NetworkMode endpoint's MAC here (dockerd omits it when empty).
    ...(req.MacAddress ? { MacAddress: req.MacAddress } : {}),
    ...(req.StopSignal || ic.StopSignal ? { StopSignal: req.StopSignal || ic.StopSignal } : {}),
    ...(req.StopTimeout !== undefined && req.StopTimeout !== null ? { StopTimeout: req.StopTimeout } : {}),
    ...withHealthcheck(req, image),
  };
}

function withHealthcheck(req: Partial<ContainerConfig>, image: ImageInfo): Pick<ContainerConfig, "Healthcheck"> {
  validateHealthcheck(req.Healthcheck);
  const hc = mergeHealthcheck(req.Healthcheck, image.config.Healthcheck);
  return hc ? { Healthcheck: hc } : {};
}

/** dockerd's validateRestartPolicy (daemon/container.go), its messages. */
export function validateRestartPolicy(rp: RestartPolicy): void {
  const max = rp.MaximumRetryCount ?? 0;
  switch (rp.Name) {
    case "always":
    case "unless-stopped":
    case "no":
      if (max !== 0) throw new InvalidParameterError(`maximum retry count cannot be used with restart policy '${rp.Name}'`);
      return;
    case "on-failure":
      if (max < 0) throw new InvalidParameterError("maximum retry count cannot be negative");
      return;
    case "":
      return;
    default:
      throw new InvalidParameterError(`invalid restart policy '${rp.Name}'`);
  }
}

export function validateHostConfig(h: HostConfig): HostConfig {
  const rp: RestartPolicy = h.RestartPolicy ?? { Name: "" };
  validateRestartPolicy(rp);
  if (h.AutoRemove && rp.Name && rp.Name !== "no") {
    throw new InvalidParameterError(`can't create 'AutoRemove' container with restart policy`);
  }
  if (h.Memory && h.Memory > 0 && h.Memory < 6 * 1024 * 1024) {
    throw new InvalidParameterError("Minimum memory limit allowed is 6MB");
  }
  if (h.NanoCpus && (h.CpuQuota || h.CpuPeriod)) {
    throw new InvalidParameterError("Conflicting options: Nano CPUs and CPU Period cannot both be set");
  }
  // json-file is the one log driver ctr has; dockerd refuses a driver it cannot find with this message.
  const logType = h.LogConfig?.Type;
  if (logType && logType !== "json-file") throw new InvalidParameterError(`error looking up logging plugin ${logType}: plugin "${logType}" not found`);
  if (typeof h.Runtime === "string" && !ACCEPTED_RUNTIMES.has(h.Runtime)) throw new InvalidParameterError(`Unknown runtime specified ${h.Runtime}`);
  if (h.PidsLimit !== undefined && h.PidsLimit !== null && h.PidsLimit < -1) {
    throw new InvalidParameterError("invalid PIDs limit");
  }
  return {
    ...h,
    // dockerd: a memory limit without a swap limit allows as much swap again (memory+swap = 2x).
    ...(h.Memory && h.Memory > 0 && !h.MemorySwap ? { MemorySwap: h.Memory * 2 } : {}),
    NetworkMode: h.NetworkMode && h.NetworkMode !== "default" ? h.NetworkMode : "bridge",
    // Kept as sent: dockerd answers "" for a client that sent none (Compose), "no" for the CLI's.
    RestartPolicy: { Name: rp.Name ?? "", MaximumRetryCount: rp.MaximumRetryCount ?? 0 },
    LogConfig: h.LogConfig?.Type ? h.LogConfig : { Type: "json-file", Config: h.LogConfig?.Config ?? {} },
  };
}

/** Split of the create body into Config / HostConfig / NetworkingConfig, with type checks. */
export function splitCreateBody(body: Record<string, unknown>): {
  config: Partial<ContainerConfig>;
  hostConfig: HostConfig;
  networking: Record<string, unknown>;
} {
  const { HostConfig: hc, NetworkingConfig: nc, ...config } = body;
  if (hc !== undefined && hc !== null && typeof hc !== "object") throw new InvalidParameterError("HostConfig must be an object");
  for (const k of ["Cmd", "Entrypoint", "Env"] as const) {
    const v = config[k];
    if (v !== undefined && v !== null && (!Array.isArray(v) || v.some((x) => typeof x !== "string"))) {
      throw new InvalidParameterError(`${k} must be an array of strings`);
    }
  }
  if (typeof config.Image !== "string" || config.Image === "") {
    throw new InvalidParameterError("Config cannot be empty in order to create a container: no image specified");
  }
  return {
    config: config as Partial<ContainerConfig>,
    hostConfig: (hc ?? {}) as HostConfig,
    networking: (nc ?? {}) as Record<string, unknown>,
  };
}

function orNull<T extends object>(o: T): T | null {
  return Object.keys(o).length ? o : null;
}
