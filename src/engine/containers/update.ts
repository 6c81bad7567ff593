// POST /containers/{id}/update: dockerd's rules (container/container_unix.go
// UpdateContainer) — a field left 0 keeps its value, NanoCpus and CPU
// period/quota exclude each other across updates, Memory above the current
// MemorySwap needs MemorySwap too, and a restart policy cannot be given to an
// AutoRemove container. The whole update applies or none of it does.
import { ConflictError, InvalidParameterError } from "../errors.ts";
import { validateRestartPolicy } from "./config.ts";
import type { HostConfig, ResourceLimits, RestartPolicy } from "./types.ts";

/** The update body: HostConfig's resource limits (one list, types.ts) plus RestartPolicy. */
export interface UpdateBody extends ResourceLimits {
  RestartPolicy?: RestartPolicy;
  [k: string]: unknown;
}

const MIN_MEMORY = 6 * 1024 * 1024;

/** The HostConfig after the update; throws dockerd's errors (prefixed with the container as dockerd does). */
export function applyUpdate(id: string, hc: HostConfig, u: UpdateBody): HostConfig {
  // Checked before anything, without the container in the message (verifyContainerSettings).
  if (u.Memory && u.Memory > 0 && u.Memory < MIN_MEMORY) throw new InvalidParameterError("Minimum memory limit allowed is 6MB");
  if (u.Memory && u.Memory > 0 && u.MemorySwap && u.MemorySwap > 0 && u.MemorySwap < u.Memory) {
    throw new InvalidParameterError("Minimum memoryswap limit should be larger than memory limit, see usage");
  }
  if (u.NanoCpus && u.CpuPeriod) throw new InvalidParameterError("Conflicting options: Nano CPUs and CPU Period cannot both be set");
  if (u.NanoCpus && u.CpuQuota) throw new InvalidParameterError("Conflicting options: Nano CPUs and CPU Quota cannot both be set");
  if (u.RestartPolicy?.Name) validateRestartPolicy(u.RestartPolicy);
  const conflict = (msg: string) => new ConflictError(`Cannot update container ${id}: ${msg}`);
  if (u.NanoCpus && hc.CpuPeriod) throw conflict("Conflicting options: Nano CPUs cannot be updated as CPU Period has already been set");
  if (u.NanoCpus && hc.CpuQuota) throw conflict("Conflicting options: Nano CPUs cannot be updated as CPU Quota has already been set");
  if (u.CpuPeriod && hc.NanoCpus) throw conflict("Conflicting options: CPU Period cannot be updated as NanoCPUs has already been set");
  if (u.CpuQuota && hc.NanoCpus) throw conflict("Conflicting options: CPU Quota cannot be updated as NanoCPUs has already been set");
  const next: HostConfig = { ...hc };
  for (const k of ["CpuShares", "NanoCpus", "CpuPeriod", "CpuQuota"] as const) if (u[k]) next[k] = u[k];
  if (u.Memory) {
    if (u.Memory > (hc.MemorySwap ?? 0) && !u.MemorySwap) {
      throw conflict("Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time");
    }
    next.Memory = u.Memory;
  }
  if (u.MemorySwap) next.MemorySwap = u.MemorySwap;
  if (u.PidsLimit !== undefined && u.PidsLimit !== null) next.PidsLimit = u.PidsLimit;
  if (u.RestartPolicy?.Name) {
    if (hc.AutoRemove && u.RestartPolicy.Name !== "no") throw conflict("Restart policy cannot be updated because AutoRemove is enabled for the container");
    next.RestartPolicy = { Name: u.RestartPolicy.Name, MaximumRetryCount: u.RestartPolicy.MaximumRetryCount ?? 0 };
  }
  return next;
}
