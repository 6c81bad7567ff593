import type { Writable } from "node:stream";

export type StreamId = 1 | 2;

export interface Subscriber {
  /** May return a promise: this subscriber cannot take more until it settles (a slow client). */
  onOutput(stream: StreamId, chunk: Uint8Array): unknown;
  onEnd(): void;
}

/**
 * One run's stdio, shared by everyone attached. Attach usually comes before
 * start (docker run: create → attach → wait → start), so subscribers and
 * early stdin are held until the process exists.
 */
export class StdioHub {
  private readonly subs = new Set<Subscriber>();
  private stdin: Writable | null = null;
  private early: Uint8Array[] = [];
  private earlyEnd = false;
  private ended = false;

  constructor(private readonly stdinOnce: boolean) {}

  subscribe(s: Subscriber): () => void {
    if (this.ended) {
      s.onEnd();
      return () => {};
    }
    this.subs.add(s);
    return () => this.subs.delete(s);
  }

  /** Bytes for the process's stdin; buffered until it starts. */
  writeStdin(chunk: Uint8Array): void {
    if (this.stdin) this.stdin.write(chunk);
    else this.early.push(chunk);
  }

  /** An attached client ended its input; with StdinOnce that closes the process's stdin. */
  endStdin(): void {
    if (!this.stdinOnce) return;
    if (this.stdin) this.stdin.end();
    else this.earlyEnd = true;
  }

  /** The process started: hand it what arrived early. */
  bindStdin(stdin: Writable | null): void {
    this.stdin = stdin;
    if (!stdin) return;
    stdin.on("error", () => {}); // EPIPE when the process exits first
    for (const c of this.early.splice(0)) stdin.write(c);
    if (this.earlyEnd) stdin.end();
  }

  /**
   * Hands a chunk to every subscriber. A promise while any of them is behind:
   * the pump awaits it, so a slow attach client slows the container's output
   * (dockerd's unbuffered broadcaster does the same) instead of growing a queue.
   */
  output(stream: StreamId, chunk: Uint8Array): Promise<void> | undefined {
    let waits: Promise<void>[] | undefined;
    for (const s of this.subs) {
      const p = s.onOutput(stream, chunk);
      if (p instanceof Promise) (waits ??= []).push(p);
    }
    return waits && Promise.all(waits).then(() => {});
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    for (const s of this.subs) s.onEnd();
    this.subs.clear();
    this.stdin?.end();
  }

  get isEnded(): boolean {
    return this.ended;
  }
}
