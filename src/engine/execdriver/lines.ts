// Line-oriented reading of the status pipe. Bun's "pipe" stdio entries are
// non-blocking socketpairs, so node:fs read() gives EAGAIN; they are read as sockets
// on the event loop (socket-chunks.ts: no 256 KiB reader buffer per start), a dup of
// the fd, so the caller still closes its own. A plain pipe (the keeper's status pipe,
// the reaper's hello pipe) goes through Bun.file(fd).stream(), which dups it too.
import { fstatSync } from "node:fs";
import { dupCloexec } from "../../kernel/fds.ts";
import { socketChunks } from "./socket-chunks.ts";

export class LineReader {
  private buf = Buffer.alloc(0);
  private eof = false;
  private readonly reader: { read(): Promise<{ done?: boolean; value?: Uint8Array }>; cancel(): Promise<void> };

  constructor(fd: number) {
    if (fstatSync(fd).isSocket()) {
      const chunks = socketChunks(dupCloexec(fd));
      this.reader = { read: () => chunks.next(), cancel: async () => chunks.cancel() };
    } else this.reader = Bun.file(fd).stream().getReader();
  }

  /** The next line without its newline; null at EOF. */
  async next(): Promise<string | null> {
    for (;;) {
      const nl = this.buf.indexOf(10);
      if (nl >= 0) {
        const line = this.buf.subarray(0, nl).toString();
        this.buf = this.buf.subarray(nl + 1);
        return line;
      }
      if (this.eof) {
        if (!this.buf.length) return null;
        const rest = this.buf.toString();
        this.buf = Buffer.alloc(0);
        return rest;
      }
      const r = await this.reader.read().catch(() => ({ done: true, value: undefined }));
      if (r.done || !r.value) this.eof = true;
      else this.buf = Buffer.concat([this.buf, r.value]);
    }
  }

  cancel(): void {
    void this.reader.cancel().catch(() => {});
  }
}
