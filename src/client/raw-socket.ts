// The hijacked attach/exec stream on Bun's native sockets. node:net costs
// ~10 ms to load, and `ctr run` attaches every time; Bun.connect is built in.
import type { Socket, TLSOptions } from "bun";

type DataListener = (b: Uint8Array) => void;

/** The part of a stream that attach and exec use: bytes both ways and a half-close. */
export interface RawSocket {
  on(event: "data", f: DataListener): void;
  off(event: "data", f: DataListener): void;
  once(event: "close" | "error", f: () => void): void;
  write(b: Uint8Array | string): void;
  /** Half-close: no more writes (FIN once the queue is flushed); reading goes on. */
  end(): void;
  destroy(): void;
  /** Holds incoming data until resume(). */
  pause(): void;
  resume(): void;
}

export type RawTarget = { unix: string } | { hostname: string; port: number; tls: TLSOptions | true };

class BunRawSocket implements RawSocket {
  socket: Socket<undefined> | null = null;
  private readonly listeners = new Set<DataListener>();
  private readonly closers: { close: (() => void)[]; error: (() => void)[] } = { close: [], error: [] };
  private held: Uint8Array[] = [];
  private paused = false;
  private queue: Uint8Array[] = [];
  private ending = false;
  private closed = false;

  on(_: "data", f: DataListener): void {
    this.listeners.add(f);
  }
  off(_: "data", f: DataListener): void {
    this.listeners.delete(f);
  }
  once(event: "close" | "error", f: () => void): void {
    if (this.closed && event === "close") return void queueMicrotask(f);
    this.closers[event].push(f);
  }
  write(b: Uint8Array | string): void {
    if (this.ending || this.closed) return;
    this.queue.push(typeof b === "string" ? Buffer.from(b) : b);
    this.flush();
  }
  end(): void {
    this.ending = true;
    this.flush();
  }
  destroy(): void {
    this.socket?.terminate();
  }
  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
    const held = this.held;
    this.held = [];
    for (const b of held) this.emit(b);
  }

  // ── from Bun's socket handlers ──
  data(b: Uint8Array): void {
    if (this.paused) this.held.push(b);
    else this.emit(b);
  }
  flush(): void {
    const s = this.socket;
    if (!s) return;
    while (this.queue.length) {
      const b = this.queue[0]!;
      const n = s.write(b);
      if (n < b.length) {
        this.queue[0] = b.subarray(Math.max(n, 0));
        return; // the rest goes on drain
      }
      this.queue.shift();
    }
    if (this.ending) s.shutdown();
  }
  closedBy(kind: "close" | "error"): void {
    if (this.closed) return;
    this.closed = true;
    for (const f of this.closers[kind].splice(0)) f();
    if (kind === "error") for (const f of this.closers.close.splice(0)) f();
  }
  private emit(b: Uint8Array): void {
    for (const f of this.listeners) f(b);
  }
}

/** Connects; rejects with the connection error (no daemon listening, refused). */
export async function connectRaw(target: RawTarget): Promise<RawSocket> {
  const raw = new BunRawSocket();
  const socket = {
    data: (_s: Socket<undefined>, b: Uint8Array) => raw.data(b),
    drain: () => raw.flush(),
    close: () => raw.closedBy("close"),
    // The daemon is done (container exited): close our side too.
    end: (s: Socket<undefined>) => {
      raw.closedBy("close");
      s.end();
    },
    error: () => raw.closedBy("error"),
  };
  // allowHalfOpen: after our FIN (stdin done) the daemon's output keeps coming.
  const opts = "unix" in target ? { unix: target.unix, socket, allowHalfOpen: true } : { ...target, socket, allowHalfOpen: true };
  raw.socket = (await Bun.connect(opts as Parameters<typeof Bun.connect>[0])) as Socket<undefined>;
  return raw;
}
