import type { Socket } from "bun";

/**
 * A byte connection as the HTTP front and the hijack use it: the few members of
 * a node socket they need. node's net and tls sockets are one as they are (the
 * TLS listener); a Bun.listen socket is wrapped in BunConn (the unix socket).
 */
export interface Conn {
  /** False when the bytes wait in our buffer (then wait for "drain"); `written` runs once they reached the kernel. */
  write(chunk: Uint8Array | string, written?: () => void): boolean;
  /** Half-closes our side once what is buffered went out; the peer's bytes are still read. */
  end(): void;
  /** Closes at once; buffered output is dropped. */
  destroy(): void;
  pause(): void;
  resume(): void;
  /** Bytes written but not yet handed to the kernel. */
  readonly writableLength: number;
  readonly destroyed: boolean;
  readonly writableEnded: boolean;
  on(event: "data", fn: (chunk: Buffer) => void): unknown;
  on(event: "end" | "close" | "drain", fn: () => void): unknown;
  on(event: "error", fn: (e: Error) => void): unknown;
  once(event: "end" | "close" | "drain", fn: () => void): unknown;
  once(event: "error", fn: (e: Error) => void): unknown;
  off(event: "data", fn: (chunk: Buffer) => void): unknown;
  off(event: "end" | "close" | "drain", fn: () => void): unknown;
  off(event: "error", fn: (e: Error) => void): unknown;
}

interface Pending {
  buf: Uint8Array;
  written?: () => void;
}

type ConnEvent = "data" | "end" | "close" | "drain" | "error";
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Listener = ((arg?: any) => void) & { once?: (arg?: any) => void };

/**
 * A Bun.listen socket as a Conn. Bun's socket.write takes what the kernel takes
 * and returns the count (it keeps nothing), so the rest waits here until the
 * socket's drain; data that still arrives while paused is held until resume.
 *
 * Its events are a small table of its own rather than node's EventEmitter: the
 * daemon runs with raised JIT thresholds, so a fresh connection's path runs
 * mostly interpreted, where every line of JavaScript counts (node:events' on,
 * once, off and emit did more per connection than this whole table).
 */
export class BunConn implements Conn {
  readonly fd: number | undefined;
  destroyed = false;
  writableEnded = false;
  private queue: Pending[] = [];
  private queued = 0;
  private paused = false;
  private held: Buffer[] = [];
  private listeners: Partial<Record<ConnEvent, Listener[]>> = {};

  constructor(private readonly socket: Socket<BunConn>) {
    const fd = (socket as { fd?: unknown }).fd;
    this.fd = typeof fd === "number" && fd >= 0 ? fd : undefined;
  }

  on(event: ConnEvent, fn: Listener): this {
    (this.listeners[event] ??= []).push(fn);
    return this;
  }

  once(event: ConnEvent, fn: Listener): this {
    const wrapper: Listener = (arg) => {
      this.off(event, fn);
      fn(arg);
    };
    wrapper.once = fn;
    return this.on(event, wrapper);
  }

  off(event: ConnEvent, fn: Listener): this {
    const list = this.listeners[event];
    if (!list) return this;
    const i = list.findIndex((l) => l === fn || l.once === fn);
    if (i >= 0) list.splice(i, 1);
    return this;
  }

  listenerCount(event: ConnEvent): number {
    return this.listeners[event]?.length ?? 0;
  }

  private emit(event: ConnEvent, arg?: unknown): void {
    const list = this.listeners[event];
    if (!list?.length) return;
    if (list.length === 1) return list[0]!(arg);
    for (const fn of list.slice()) fn(arg);
  }

  get writableLength(): number {
    return this.queued;
  }

  write(chunk: Uint8Array | string, written?: () => void): boolean {
    if (this.destroyed || this.writableEnded) return false;
    const buf = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
    if (this.queue.length === 0) {
      const n = Math.max(this.socket.write(buf), 0);
      if (n === buf.length) {
        if (written) queueMicrotask(written);
        return true;
      }
      this.queue.push({ buf: buf.subarray(n), written });
      this.queued += buf.length - n;
      return false;
    }
    this.queue.push({ buf, written });
    this.queued += buf.length;
    return false;
  }

  end(): void {
    if (this.destroyed || this.writableEnded) return;
    this.writableEnded = true;
    // shutdown(2), not socket.end(): Bun's end() closes both ways, even with allowHalfOpen.
    if (this.queue.length === 0) this.socket.shutdown();
  }

  destroy(): void {
    if (this.destroyed) return;
    this.queue = [];
    this.queued = 0;
    this.socket.end();
    this.closed();
  }

  pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.socket.pause();
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.socket.resume();
    while (this.held.length && !this.paused) {
      const c = this.held.shift()!;
      if (c === EOF) this.emit("end");
      else this.emit("data", c);
    }
  }

  /** Bun's `data` handler. */
  received(chunk: Buffer): void {
    if (this.paused) this.held.push(chunk);
    else this.emit("data", chunk);
  }

  /** Bun's `drain` handler: the kernel takes bytes again. */
  drained(): void {
    while (this.queue.length) {
      const head = this.queue[0]!;
      const n = Math.max(this.socket.write(head.buf), 0);
      this.queued -= n;
      if (n < head.buf.length) {
        head.buf = head.buf.subarray(n);
        return;
      }
      this.queue.shift();
      head.written?.();
    }
    if (this.writableEnded && !this.destroyed) this.socket.shutdown();
    this.emit("drain");
  }

  /** Bun's `end` handler: the peer half-closed. */
  peerEnded(): void {
    if (this.paused) this.held.push(EOF);
    else this.emit("end");
  }

  /** Bun's `close` handler (and ours after destroy). */
  closed(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.emit("close");
  }

  failed(e: Error): void {
    if (this.listenerCount("error")) this.emit("error", e);
  }
}

/** Held in place of the peer's end while paused, so "end" comes after the data before it. */
const EOF = Buffer.alloc(0);
