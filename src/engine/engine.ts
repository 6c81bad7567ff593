import { JobStream, type JobContext, type JobInfo } from "./job.ts";
import { NotFoundError } from "./errors.ts";

export type JobHandler<A, R> = (ctx: JobContext, args: A) => Promise<R> | R;

/** A typed job name: routes run jobs by these without knowing the handler. */
export interface JobType<A, R> {
  readonly name: string;
  /** Phantom: carries the argument and result types. */
  readonly __types?: (a: A) => R;
}

export function jobType<A, R>(name: string): JobType<A, R> {
  return { name };
}

/** A named job with its handler; parts of the engine define these and register them. */
export interface JobDef<A, R> extends JobType<A, R> {
  handler: JobHandler<A, R>;
  /** argv-like summary for `ctr jobs`; defaults to JSON of the args. */
  describe?: (args: A) => string[];
}

export function defineJob<A, R>(
  name: string,
  handler: JobHandler<A, R>,
  describe?: (args: A) => string[],
): JobDef<A, R> {
  return { name, handler, describe };
}

/** Binds a handler to a job type declared elsewhere (so routes need not import handlers). */
export function handle<A, R>(
  type: JobType<A, R>,
  handler: JobHandler<A, R>,
  describe?: (args: A) => string[],
): JobDef<A, R> {
  return { name: type.name, handler, describe };
}

export interface RunOptions {
  env?: Record<string, string>;
  signal?: AbortSignal;
  /** Called with the job's output streams before the handler starts. */
  onStart?: (ctx: JobContext) => void;
}

/**
 * The engine: a registry of job handlers by name and the table of jobs in
 * flight and recently ended. Every API route runs its work through `run`.
 */
export class Engine {
  private readonly handlers = new Map<string, JobHandler<any, any>>();
  private readonly describers = new Map<string, (args: any) => string[]>();
  private readonly table = new Map<number, JobInfo>();
  private nextId = 1;
  private static readonly KEEP_ENDED = 200;
  private readonly observers: ((name: string, args: any, result: any) => void)[] = [];
  private readonly enders: ((name: string) => void)[] = [];

  /** Called after each job that succeeds (the daemon turns some into Docker events). */
  onSucceeded(f: (name: string, args: any, result: any) => void): this {
    this.observers.push(f);
    return this;
  }

  /** Called after every job, whatever its outcome (the daemon gives memory back after a burst). */
  onEnded(f: (name: string) => void): this {
    this.enders.push(f);
    return this;
  }

  register(...defs: JobDef<any, any>[]): this {
    for (const d of defs) {
      this.handlers.set(d.name, d.handler);
      if (d.describe) this.describers.set(d.name, d.describe);
    }
    return this;
  }

  has(name: string): boolean {
    return this.handlers.has(name);
  }

  names(): string[] {
    return [...this.handlers.keys()].sort();
  }

  run<A, R>(def: JobType<A, R> | string, args: A, opts: RunOptions = {}): Promise<R> {
    const name = typeof def === "string" ? def : def.name;
    const handler = this.handlers.get(name) as JobHandler<A, R> | undefined;
    if (!handler) return Promise.reject(new NotFoundError(`no such job: ${name}`));
    const info: JobInfo = {
      id: this.nextId++,
      name,
      args: this.describe(name, args),
      env: opts.env ?? {},
      status: "running",
      exitStatus: null,
      startedAt: new Date().toISOString(),
    };
    this.table.set(info.id, info);
    const ctx: JobContext = {
      info,
      stdout: new JobStream(),
      stderr: new JobStream(),
      signal: opts.signal ?? new AbortController().signal,
      setProgress: (text) => {
        info.progress = text;
      },
      ready: () => {},
    };
    opts.onStart?.(ctx);
    const t0 = performance.now();
    const finish = (error?: unknown) => {
      info.endedAt = new Date().toISOString();
      info.durationMs = Math.round((performance.now() - t0) * 1000) / 1000;
      info.status = error ? "failed" : "succeeded";
      info.exitStatus = error ? 1 : 0;
      if (error) info.error = error instanceof Error ? error.message : String(error);
      ctx.stdout.end();
      ctx.stderr.end();
      this.trim();
      for (const f of this.enders) f(name);
    };
    return (async () => {
      try {
        const r = await handler(ctx, args);
        finish();
        for (const o of this.observers) {
          try {
            o(name, args, r);
          } catch {
            // an observer never fails the job
          }
        }
        return r;
      } catch (e) {
        finish(e);
        throw e;
      }
    })();
  }

  /**
   * Runs a streaming job: resolves as soon as the handler calls `ctx.ready()`
   * (or finishes), rejects if it fails before that.
   */
  start<A, R>(def: JobType<A, R> | string, args: A, opts: RunOptions = {}): Promise<{ ctx: JobContext; result: Promise<R> }> {
    return new Promise((resolve, reject) => {
      let settled = false;
      let ctx!: JobContext;
      let result!: Promise<R>;
      const settle = () => {
        if (settled) return;
        settled = true;
        queueMicrotask(() => resolve({ ctx, result }));
      };
      result = this.run(def, args, {
        ...opts,
        onStart: (c) => {
          ctx = c;
          (c as { ready: () => void }).ready = settle;
          opts.onStart?.(c);
        },
      });
      result.then(settle, (e) => {
        if (settled) return;
        settled = true;
        reject(e);
      });
    });
  }

  jobs(opts: { all?: boolean } = {}): JobInfo[] {
    const list = [...this.table.values()];
    return opts.all ? list : list.filter((j) => j.status === "running" || j.name !== "ping");
  }

  private describe(name: string, args: unknown): string[] {
    const d = this.describers.get(name);
    if (d) return d(args);
    if (args === undefined || args === null) return [];
    if (typeof args !== "object") return [String(args)];
    return Object.entries(args as Record<string, unknown>)
      .filter(([, v]) => v !== undefined && typeof v !== "object" && typeof v !== "function")
      .map(([k, v]) => `${k}=${v}`);
  }

  private trim(): void {
    let ended = 0;
    for (const j of this.table.values()) if (j.status !== "running") ended++;
    for (const [id, j] of this.table) {
      if (ended <= Engine.KEEP_ENDED) break;
      if (j.status !== "running") {
        this.table.delete(id);
        ended--;
      }
    }
  }
}
