// Healthchecks as dockerd runs them (daemon/health.go): a probe is an exec in
// the container every Interval after the previous one ended; exit 0 is healthy,
// anything else (a timeout too) a failure; Retries failures in a row make the
// container unhealthy, except during StartPeriod while it is still starting.
import { goDuration } from "../build/instructions.ts";
import { InvalidParameterError } from "../errors.ts";

/** Config.Healthcheck: durations in nanoseconds, 0 meaning "inherit or default". */
export interface HealthConfig {
  Test?: string[] | null;
  Interval?: number;
  Timeout?: number;
  StartPeriod?: number;
  Retries?: number;
}

export type HealthStatus = "starting" | "healthy" | "unhealthy";

export interface HealthLogEntry {
  Start: string;
  End: string;
  ExitCode: number;
  Output: string;
}

/** State.Health. */
export interface Health {
  Status: HealthStatus;
  FailingStreak: number;
  Log: HealthLogEntry[];
}

// dockerd's defaults and bounds (api/types/container, daemon/health.go).
export const DEFAULT_INTERVAL_NS = 30e9;
export const DEFAULT_TIMEOUT_NS = 30e9;
export const DEFAULT_RETRIES = 3;
const MIN_DURATION_NS = 1e6;
const MAX_LOG_ENTRIES = 5;
const MAX_OUTPUT_BYTES = 4096;

/** dockerd's create-time merge (daemon/commit.go): the user's fields, the image's where the user left them 0. */
export function mergeHealthcheck(user: HealthConfig | null | undefined, image: HealthConfig | null | undefined): HealthConfig | undefined {
  if (!user) return image ? compact(image) : undefined;
  const base = image ?? {};
  return compact({
    Test: user.Test?.length ? user.Test : base.Test,
    Interval: user.Interval || base.Interval,
    Timeout: user.Timeout || base.Timeout,
    StartPeriod: user.StartPeriod || base.StartPeriod,
    Retries: user.Retries || base.Retries,
  });
}

/** Go's omitempty: zero durations, zero retries and an empty Test are left out. */
function compact(h: HealthConfig): HealthConfig {
  const out: HealthConfig = {};
  if (h.Test?.length) out.Test = h.Test;
  for (const k of ["Interval", "Timeout", "StartPeriod", "Retries"] as const) if (h[k]) out[k] = h[k];
  return out;
}

/** dockerd's create-time checks of Config.Healthcheck, with its messages. */
export function validateHealthcheck(h: HealthConfig | null | undefined): void {
  if (!h) return;
  const min = goDuration(MIN_DURATION_NS);
  for (const k of ["Interval", "Timeout", "StartPeriod"] as const) {
    const v = h[k] ?? 0;
    if (v !== 0 && v < MIN_DURATION_NS) throw new InvalidParameterError(`${k} in Healthcheck cannot be less than ${min}`);
  }
  if ((h.Retries ?? 0) < 0) throw new InvalidParameterError("Retries in Healthcheck cannot be negative");
}

/** The probe's argv, or null when the container has no healthcheck (none, or NONE). */
export function probeArgs(h: HealthConfig | null | undefined, shell: string[] | null | undefined): string[] | null {
  const test = h?.Test ?? [];
  switch (test[0]) {
    case "CMD":
      return test.length > 1 ? test.slice(1) : null;
    case "CMD-SHELL":
      return [...(shell?.length ? shell : ["/bin/sh", "-c"]), test.slice(1).join(" ")];
    default:
      return null; // [], ["NONE"]
  }
}

export interface ProbeTiming {
  intervalMs: number;
  timeoutMs: number;
  startPeriodMs: number;
  retries: number;
}

export function probeTiming(h: HealthConfig): ProbeTiming {
  return {
    intervalMs: (h.Interval || DEFAULT_INTERVAL_NS) / 1e6,
    timeoutMs: (h.Timeout || DEFAULT_TIMEOUT_NS) / 1e6,
    startPeriodMs: (h.StartPeriod ?? 0) / 1e6,
    retries: h.Retries || DEFAULT_RETRIES,
  };
}

/** At each start: starting again, the previous run's log kept (as dockerd shows it). */
export function startingHealth(prev: Health | undefined): Health {
  return { Status: "starting", FailingStreak: 0, Log: prev?.Log ?? [] };
}

/** When the container stops dockerd reports it unhealthy; streak and log stay. */
export function stoppedHealth(prev: Health | undefined): Health | undefined {
  return prev && { ...prev, Status: "unhealthy" };
}

/** One probe's result folded into the state (daemon/health.go handleProbeResult). */
export function applyResult(h: Health, r: HealthLogEntry, t: ProbeTiming, inStartPeriod: boolean): Health {
  const Log = [...h.Log, r].slice(-MAX_LOG_ENTRIES);
  if (r.ExitCode === 0) return { Status: "healthy", FailingStreak: 0, Log };
  // While starting and within the start period a failure does not count.
  if (h.Status === "starting" && inStartPeriod) return { ...h, Log };
  const FailingStreak = h.FailingStreak + 1;
  return { Status: FailingStreak >= t.retries ? "unhealthy" : h.Status, FailingStreak, Log };
}

/** dockerd keeps the first 4 KiB of a probe's output. */
export function clipOutput(out: string): string {
  const b = Buffer.from(out);
  return b.length <= MAX_OUTPUT_BYTES ? out : b.subarray(0, MAX_OUTPUT_BYTES).toString();
}

export function timeoutOutput(timeoutMs: number): string {
  return `Health check exceeded timeout (${goDuration(timeoutMs * 1e6)})`;
}

/** `ps` Status suffix: "(healthy)", "(unhealthy)", "(health: starting)". */
export function healthSuffix(h: Health | undefined): string {
  if (!h) return "";
  return h.Status === "starting" ? " (health: starting)" : ` (${h.Status})`;
}
