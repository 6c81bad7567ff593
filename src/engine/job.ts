import { EventEmitter } from "node:events";

export type JobStatus = "running" | "succeeded" | "failed";

/** One unit of work, shaped like a Unix process. */
export interface JobInfo {
  id: number;
  name: string;
  args: string[];
  env: Record<string, string>;
  status: JobStatus;
  exitStatus: number | null;
  error?: string;
  progress?: string;
  startedAt: string;
  endedAt?: string;
  durationMs?: number;
}

/**
 * A job's output stream: lines a caller may follow while the job runs (pull
 * progress, load messages). Chunks written before anyone listens are kept,
 * bounded, so a late reader sees the start.
 */
export class JobStream extends EventEmitter {
  private buffered: unknown[] = [];
  private ended = false;
  private static readonly KEEP = 256;

  write(chunk: unknown): void {
    if (this.ended) return;
    if (this.listenerCount("data") === 0) {
      this.buffered.push(chunk);
      if (this.buffered.length > JobStream.KEEP) this.buffered.shift();
    } else this.emit("data", chunk);
  }
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.emit("end");
  }
  get isEnded(): boolean {
    return this.ended;
  }
  /** Calls onData for every chunk, buffered ones first; resolves at end. */
  follow(onData: (chunk: unknown) => void): Promise<void> {
    for (const c of this.buffered.splice(0)) onData(c);
    if (this.ended) return Promise.resolve();
    this.on("data", onData);
    return new Promise((resolve) => this.once("end", resolve));
  }
}

/** What a handler sees of its own job. */
export interface JobContext {
  readonly info: JobInfo;
  readonly stdout: JobStream;
  readonly stderr: JobStream;
  readonly signal: AbortSignal;
  setProgress(text: string): void;
  /**
   * A streaming job (wait, attach, logs, pull…) calls this once its
   * arguments are checked: the caller may then send headers while the job
   * goes on. Errors before it still become proper status codes.
   */
  ready(): void;
}
