// The body of GET /containers/:id/logs: stored lines encoded straight into ~32 KB
// blocks, each line behind its stdcopy header (stdcopy.ts) unless the container has a
// TTY. A log read goes through hundreds of thousands of lines; a Buffer, a framed copy
// and a concatenation per line made more garbage than the bytes sent (issue 18's RSS
// swing under the soak). Here a line costs an encodeInto into the current block, and a
// block is handed on when full, or at the next turn of the event loop when the lines
// stop (a follower must see a quiet container's last line at once).
const enc = new TextEncoder();

export interface LogFrames {
  /** Adds one line; a promise when the reader is behind (await it before the next). */
  push(stream: 1 | 2, text: string, prefix?: string): Promise<void> | undefined;
  /** Hands on what is pending. */
  flush(): Promise<void> | undefined;
}

export function logFrames(write: (b: Uint8Array) => Promise<void> | undefined, tty: boolean, size = 32 * 1024): LogFrames {
  let block = new Uint8Array(size);
  let pos = 0;
  let scheduled = false;
  const flush = (): Promise<void> | undefined => {
    if (!pos) return undefined;
    // The consumer keeps the block it was given: the next lines go into a new one.
    const out = block.subarray(0, pos);
    block = new Uint8Array(size);
    pos = 0;
    return write(out);
  };
  const put = (s: string) => {
    if (s) pos += enc.encodeInto(s, block.subarray(pos)).written;
  };
  return {
    push(stream, text, prefix = "") {
      // UTF-8 takes at most 3 bytes per UTF-16 unit (a surrogate pair: 4 for 2).
      const need = 8 + 3 * (prefix.length + text.length);
      let behind: Promise<void> | undefined;
      if (pos + need > block.length) {
        behind = flush();
        if (need > block.length) block = new Uint8Array(need);
      }
      const start = pos;
      if (!tty) pos += 8;
      put(prefix);
      put(text);
      if (!tty) {
        // Header bytes by hand: a DataView over `block.buffer` would make the engine
        // give the block's store a separate heap allocation (stdcopy.ts frame()).
        const n = pos - start - 8;
        block[start] = stream;
        block[start + 4] = n >>> 24;
        block[start + 5] = (n >>> 16) & 255;
        block[start + 6] = (n >>> 8) & 255;
        block[start + 7] = n & 255;
      }
      if (pos >= size) return flush() ?? behind;
      if (!scheduled) {
        scheduled = true;
        setImmediate(() => {
          scheduled = false;
          void flush();
        });
      }
      return behind;
    },
    flush,
  };
}
