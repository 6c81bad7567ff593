// A request body read off the connection: framed by Content-Length or chunked
// (RFC 9112 §7.1), handed to the route as a web stream with backpressure.
import type { Framing } from "./head-parser.ts";
import type { Conn } from "./conn.ts";
import { BodyFramingError, ClientGoneError, ReadTimeoutError } from "../errors.ts";

/**
 * Takes a body out of the connection's bytes. feed() hands the body's bytes to
 * `out` and returns how many of `b` it took: the rest belongs to the next request.
 */
export interface BodyDecoder {
  feed(b: Uint8Array, out: (chunk: Uint8Array) => void): number;
  readonly done: boolean;
}

export function decoderFor(f: Framing): BodyDecoder {
  if (f.kind === "chunked") return new ChunkedDecoder();
  return new LengthDecoder(f.kind === "length" ? f.length : 0);
}

export class LengthDecoder implements BodyDecoder {
  constructor(private left: number) {}
  get done(): boolean {
    return this.left === 0;
  }
  feed(b: Uint8Array, out: (chunk: Uint8Array) => void): number {
    const n = Math.min(this.left, b.length);
    if (n > 0) out(b.subarray(0, n));
    this.left -= n;
    return n;
  }
}

/** The longest chunk-size or trailer line Go's chunked reader takes. */
const MAX_LINE = 4096;
/** Trailer fields are read and dropped (no route reads them); this bounds them. */
const MAX_TRAILERS = 64 * 1024;

type ChunkState = "size" | "data" | "data-end" | "trailers" | "done";

export class ChunkedDecoder implements BodyDecoder {
  private state: ChunkState = "size";
  private line = "";
  private left = 0;
  private trailerBytes = 0;
  get done(): boolean {
    return this.state === "done";
  }

  feed(b: Uint8Array, out: (chunk: Uint8Array) => void): number {
    let i = 0;
    while (i < b.length && this.state !== "done") {
      if (this.state === "data") {
        const n = Math.min(this.left, b.length - i);
        out(b.subarray(i, i + n));
        i += n;
        this.left -= n;
        if (this.left === 0) this.state = "data-end";
        continue;
      }
      const nl = b.indexOf(10, i);
      const stop = nl < 0 ? b.length : nl + 1;
      this.line += Buffer.from(b.buffer, b.byteOffset + i, stop - i).toString("latin1");
      if (this.state === "trailers") this.trailerBytes += stop - i;
      i = stop;
      if (nl < 0) {
        if (this.line.length > MAX_LINE) throw new BodyFramingError("header line too long");
        break;
      }
      const line = this.line.replace(/\r?\n$/, "");
      this.line = "";
      this.endOfLine(line);
    }
    return i;
  }

  private endOfLine(line: string): void {
    if (line.length > MAX_LINE) throw new BodyFramingError("header line too long");
    if (this.state === "size") {
      // Chunk extensions (";name=value") are allowed and ignored.
      const size = line.split(";", 1)[0]!.trim();
      if (size === "") throw new BodyFramingError("empty hex number for chunk length");
      if (!/^[0-9a-fA-F]+$/.test(size)) throw new BodyFramingError("invalid byte in chunk length");
      if (size.length > 13) throw new BodyFramingError("http chunk length too large");
      this.left = parseInt(size, 16);
      this.state = this.left === 0 ? "trailers" : "data";
    } else if (this.state === "data-end") {
      if (line !== "") throw new BodyFramingError("malformed chunked encoding");
      this.state = "size";
    } else if (this.state === "trailers") {
      if (line === "") this.state = "done";
      else if (this.trailerBytes > MAX_TRAILERS) throw new BodyFramingError("chunked encoding contains too much non-data");
    }
  }
}

/**
 * The body as the route sees it: a stream that asks the connection for bytes
 * only while it has room (the socket is paused while it is full), gives up on a
 * client silent for `idleMs` while we want bytes (ReadTimeoutError, the
 * connection dropped), and ends with ClientGoneError when the client leaves
 * before the end. With `keep` false (GET, HEAD) the bytes are read and dropped.
 */
export class RequestBody {
  readonly stream: ReadableStream<Uint8Array> | undefined;
  private ctrl: ReadableStreamDefaultController<Uint8Array> | undefined;
  /** The stream was closed, errored or cancelled: nothing more reaches the route. */
  private settled = false;
  private failed = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** We want bytes: the stream has room and the body has not ended. */
  private wanting = false;
  /** When bytes were last wanted or came (epoch ms). */
  private since = 0;
  private readonly emit = (chunk: Uint8Array) => {
    if (this.settled || !this.ctrl) return;
    this.ctrl.enqueue(chunk); // a view of the received buffer, not a copy
  };

  constructor(
    readonly decoder: BodyDecoder,
    private readonly conn: Conn,
    private readonly idleMs: number,
    keep: boolean,
  ) {
    if (!keep) {
      this.settled = true;
      return;
    }
    this.stream = new ReadableStream<Uint8Array>(
      {
        start: (c) => {
          this.ctrl = c;
          this.arm();
        },
        pull: () => {
          if (this.settled) return;
          this.arm();
          this.conn.resume();
        },
        // The route read enough (a 413 on a JSON cap): the answer still has to reach the
        // client, so the connection stays; what still comes is dropped after the answer.
        cancel: () => this.settle(),
      },
      { highWaterMark: 4 },
    );
  }

  /** The body ended as framed. */
  get done(): boolean {
    return this.decoder.done;
  }

  /** The client broke the framing: the connection cannot carry another request. */
  get broken(): boolean {
    return this.failed;
  }

  /** Takes this body's bytes from the front of `b`; returns how many. */
  feed(b: Uint8Array): number {
    let used: number;
    try {
      used = this.decoder.feed(b, this.emit);
    } catch (e) {
      this.failed = true;
      this.error(e as Error);
      return b.length;
    }
    if (this.decoder.done) {
      if (!this.settled) this.ctrl?.close();
      this.settle();
    } else if (!this.settled && (this.ctrl!.desiredSize ?? 1) <= 0) {
      this.stop(); // our consumer is slow, not the client
      this.conn.pause();
    } else if (!this.settled) this.arm();
    return used;
  }

  /** The connection ended or closed before the body did. */
  clientGone(why: string): void {
    if (this.decoder.done) return;
    this.error(new ClientGoneError(`the client went away during the request body (${why})`));
  }

  /** After the answer: whatever still comes is dropped, not queued. */
  discard(): void {
    this.settle();
  }

  private error(e: Error): void {
    if (!this.settled) this.ctrl?.error(e);
    this.settle();
  }

  private settle(): void {
    this.stop();
    clearTimeout(this.timer);
    this.timer = undefined;
    this.settled = true;
  }

  /**
   * (Re)starts the wait for bytes. One timer per body, moved on only when it
   * fires: a timer per chunk would cost more than the chunk (see deadlines.ts).
   */
  private arm(): void {
    this.wanting = true;
    this.since = Date.now();
    this.timer ??= setTimeout(this.check, this.idleMs);
  }

  private readonly check = (): void => {
    this.timer = undefined;
    if (!this.wanting || this.settled) return;
    const idle = Date.now() - this.since;
    if (idle < this.idleMs) {
      this.timer = setTimeout(this.check, this.idleMs - idle);
      return;
    }
    this.error(new ReadTimeoutError(`no request body received for ${this.idleMs / 1000} s`));
    this.conn.destroy();
  };

  /** Not waiting for the client (our consumer is slow, or the body ended). */
  private stop(): void {
    this.wanting = false;
  }
}
