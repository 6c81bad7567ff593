// The keeper's socket (see keeper.ts): frames of [type u8][length u32 BE][payload].
// Type 0 carries one JSON message (keeper-protocol.ts); type 1 carries a
// container's bytes: [pid u32 BE][stream u8][data] — output from the keeper,
// stdin towards it. Binary, because output is passed on as it came (a prompt
// without a newline, bytes that are not UTF-8), and base64 in JSON would cost
// both processes on a chatty container.

export const CONTROL = 0;
export const DATA = 1;
const HEADER = 5;

/** stdin (towards the keeper), stdout, stderr (from it); a terminal's output comes as stdout. */
export type WireStream = 0 | 1 | 2;

export function controlFrame(msg: unknown): Uint8Array {
  return frame(CONTROL, Buffer.from(JSON.stringify(msg)));
}

export function dataFrame(pid: number, stream: WireStream, data: Uint8Array): Uint8Array {
  const head = Buffer.alloc(5);
  head.writeUInt32BE(pid, 0);
  head[4] = stream;
  return frame(DATA, Buffer.concat([head, data]));
}

function frame(type: number, payload: Buffer): Uint8Array {
  const out = Buffer.alloc(HEADER + payload.length);
  out[0] = type;
  out.writeUInt32BE(payload.length, 1);
  payload.copy(out, HEADER);
  return out;
}

export interface FrameHandlers {
  control(msg: unknown): void;
  data(pid: number, stream: WireStream, data: Uint8Array): void;
}

/** Reassembles frames from socket chunks (a frame may span chunks, a chunk may hold many). */
export class FrameReader {
  private buf: Buffer = Buffer.alloc(0);

  constructor(private readonly on: FrameHandlers) {}

  push(chunk: Uint8Array): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : Buffer.from(chunk);
    let at = 0;
    while (this.buf.length - at >= HEADER) {
      const len = this.buf.readUInt32BE(at + 1);
      if (this.buf.length - at < HEADER + len) break;
      const type = this.buf[at]!;
      const payload = this.buf.subarray(at + HEADER, at + HEADER + len);
      at += HEADER + len;
      if (type === CONTROL) this.on.control(JSON.parse(payload.toString()));
      else if (type === DATA) this.on.data(payload.readUInt32BE(0), payload[4] as WireStream, Buffer.from(payload.subarray(5)));
    }
    this.buf = at === this.buf.length ? Buffer.alloc(0) : Buffer.from(this.buf.subarray(at));
  }
}

/** What both ends need of a Bun socket: write (possibly partial) and a drain callback. */
export interface RawSocket {
  write(data: Uint8Array): number;
  end(): void;
}

/**
 * Writes frames in order through a Bun socket, queueing what the kernel did
 * not take until the socket drains (Bun's write may accept part of a buffer).
 */
export class FrameWriter {
  private queue: Uint8Array[] = [];
  /** Bytes queued, not yet taken by the kernel. */
  pendingBytes = 0;

  constructor(private readonly socket: RawSocket) {}

  send(frame: Uint8Array): void {
    if (this.queue.length) return this.enqueue(frame);
    const n = this.socket.write(frame);
    if (n < frame.length) this.enqueue(frame.subarray(Math.max(n, 0)));
  }

  private enqueue(b: Uint8Array): void {
    this.queue.push(b);
    this.pendingBytes += b.length;
  }

  /** Called from the socket's drain handler. */
  drain(): void {
    while (this.queue.length) {
      const head = this.queue[0]!;
      const n = Math.max(this.socket.write(head), 0);
      this.pendingBytes -= Math.min(n, head.length);
      if (n < head.length) {
        this.queue[0] = head.subarray(n);
        return;
      }
      this.queue.shift();
    }
  }

  get pending(): number {
    return this.queue.length;
  }
}
