// Runs the healthcheck probes of running containers: one timer per container,
// the next probe scheduled Interval after the previous one ended (as dockerd).
import { applyResult, clipOutput, probeArgs, probeTiming, type Health } from "./health.ts";
import { nowRfc3339, type Container } from "./types.ts";

export interface ProbeOutcome {
  exitCode: number;
  /** stdout and stderr as the probe wrote them. */
  output: string;
}

export interface HealthMonitorDeps {
  /** Runs argv as an exec in the running container; a probe that outlives timeoutMs is killed and reported -1. */
  probe(containerId: string, argv: string[], timeoutMs: number): Promise<ProbeOutcome>;
  /** Folds a result into State.Health, if the container still runs the start that began at `startedAt`. */
  record(containerId: string, startedAt: string, fold: (h: Health) => Health): void;
}

export class HealthMonitor {
  private readonly watched = new Map<string, { timer?: Timer; stopped: boolean }>();

  constructor(private readonly d: HealthMonitorDeps) {}

  /** A container started (or was unpaused): probe it while it runs. */
  watch(c: Container): void {
    const hc = c.config.Healthcheck;
    const argv = probeArgs(hc, c.config.Shell);
    if (!hc || !argv) return;
    this.unwatch(c.id);
    const t = probeTiming(hc);
    const w: { timer?: Timer; stopped: boolean } = { stopped: false };
    this.watched.set(c.id, w);
    const startedAt = c.state.StartedAt;
    const next = () => {
      w.timer = setTimeout(async () => {
        if (w.stopped) return;
        const begin = Date.now();
        const Start = nowRfc3339();
        const out = await this.d.probe(c.id, argv, t.timeoutMs).catch((e: unknown) => ({ exitCode: -1, output: (e as Error).message }));
        if (w.stopped) return;
        const entry = { Start, End: nowRfc3339(), ExitCode: out.exitCode, Output: clipOutput(out.output) };
        const inStartPeriod = begin - Date.parse(startedAt) < t.startPeriodMs;
        this.d.record(c.id, startedAt, (h) => applyResult(h, entry, t, inStartPeriod));
        next();
      }, t.intervalMs);
      w.timer.unref?.();
    };
    next();
  }

  /** The container stopped or was paused: no more probes (one in flight is not recorded). */
  unwatch(id: string): void {
    const w = this.watched.get(id);
    if (!w) return;
    w.stopped = true;
    if (w.timer) clearTimeout(w.timer);
    this.watched.delete(id);
  }

  close(): void {
    for (const id of [...this.watched.keys()]) this.unwatch(id);
  }
}
