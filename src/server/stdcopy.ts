// Docker's multiplexed stream framing (attach, exec and logs when Tty=false):
// [stream id (1 stdout, 2 stderr), 0, 0, 0, uint32 big-endian length] + payload.
// Stream 3 (stdcopy's Systemerr) only ends ctr's own run conversation (routes/attach-run.ts).

export function frame(stream: 0 | 1 | 2 | 3, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + payload.length);
  out[0] = stream;
  // Bytes by hand: touching `out.buffer` of a small array makes the engine give
  // it a separate heap block, and a log read frames every line.
  const n = payload.length;
  out[4] = n >>> 24;
  out[5] = (n >>> 16) & 255;
  out[6] = (n >>> 8) & 255;
  out[7] = n & 255;
  out.set(payload, 8);
  return out;
}

/** Reassembles frames from arbitrary chunks; calls back once per whole frame. */
export class Demuxer {
  private buf = new Uint8Array(0);

  constructor(private readonly onFrame: (stream: number, payload: Uint8Array) => void) {}

  push(chunk: Uint8Array): void {
    const joined = new Uint8Array(this.buf.length + chunk.length);
    joined.set(this.buf);
    joined.set(chunk, this.buf.length);
    let off = 0;
    while (joined.length - off >= 8) {
      const len = new DataView(joined.buffer, joined.byteOffset + off + 4, 4).getUint32(0);
      if (joined.length - off - 8 < len) break;
      this.onFrame(joined[off]!, joined.subarray(off + 8, off + 8 + len));
      off += 8 + len;
    }
    this.buf = joined.slice(off);
  }
}
