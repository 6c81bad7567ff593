import { appendFileSync, existsSync, fstatSync, openSync, readSync, closeSync, renameSync, rmSync, statSync, type Stats } from "node:fs";
import { InvalidParameterError } from "../errors.ts";
import type { LogDriver, LogEntry, LogSink } from "../containers/ports.ts";
import { parseBytes } from "../../units.ts";
import { nowRfc3339 } from "../containers/types.ts";

export interface LogOptions {
  maxSize: number;
  maxFile: number;
}

/** Bounded by default, so a chatty container cannot fill an edge box's disk. */
export const DEFAULT_LOG_OPTIONS: LogOptions = { maxSize: 10 * 1024 * 1024, maxFile: 3 };
/** Docker splits lines longer than 16 KiB into several entries. */
const MAX_LINE = 16 * 1024;

export function parseLogOpts(opts: Record<string, string>): LogOptions {
  const o = { ...DEFAULT_LOG_OPTIONS };
  for (const [k, v] of Object.entries(opts)) {
    if (k === "max-size") {
      if (v === "-1") o.maxSize = Infinity;
      else {
        try {
          o.maxSize = parseBytes(v);
        } catch {
          throw new InvalidParameterError(`invalid max-size: ${v}`);
        }
      }
    } else if (k === "max-file") {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) throw new InvalidParameterError(`invalid max-file: ${v}`);
      o.maxFile = n;
    } else if (!["mode", "max-buffer-size", "compress", "labels", "env", "tag"].includes(k)) {
      throw new InvalidParameterError(`unknown log opt '${k}' for json-file log driver`);
    }
  }
  return o;
}

/** Docker's json-file driver: one JSON object per line of output, rotated by size. */
export class JsonFileLogger implements LogSink {
  private size: number;
  private readonly partial: Record<"stdout" | "stderr", Buffer> = { stdout: Buffer.alloc(0), stderr: Buffer.alloc(0) };

  constructor(
    private readonly path: string,
    private readonly opts: LogOptions = DEFAULT_LOG_OPTIONS,
  ) {
    this.size = existsSync(path) ? statSync(path).size : 0;
    // The file exists from the start, as dockerd's: a follower opens it before the first output.
    if (!this.size) appendFileSync(path, "");
  }

  write(stream: "stdout" | "stderr", chunk: Uint8Array): void {
    let buf = Buffer.concat([this.partial[stream], chunk]);
    const lines: string[] = [];
    for (;;) {
      const nl = buf.indexOf(10);
      if (nl < 0 || nl >= MAX_LINE) {
        if (buf.length < MAX_LINE) break;
        lines.push(buf.subarray(0, MAX_LINE).toString());
        buf = buf.subarray(MAX_LINE);
        continue;
      }
      lines.push(buf.subarray(0, nl + 1).toString());
      buf = buf.subarray(nl + 1);
    }
    this.partial[stream] = Buffer.from(buf);
    if (lines.length) this.append(stream, lines);
  }

  close(): void {
    for (const s of ["stdout", "stderr"] as const) {
      if (this.partial[s].length) this.append(s, [this.partial[s].toString()]);
      this.partial[s] = Buffer.alloc(0);
    }
  }

  /** Size is checked per entry, as Docker does: a burst of lines in one chunk still rotates on time. */
  private append(stream: string, lines: string[]): void {
    const time = nowRfc3339();
    let batch = "";
    let batchBytes = 0;
    for (const log of lines) {
      const entry = JSON.stringify({ log, stream, time }) + "\n";
      const n = Buffer.byteLength(entry);
      if (this.size + batchBytes > 0 && this.size + batchBytes + n > this.opts.maxSize) {
        this.flush(batch, batchBytes);
        batch = "";
        batchBytes = 0;
        this.rotate();
      }
      batch += entry;
      batchBytes += n;
    }
    this.flush(batch, batchBytes);
  }

  private flush(data: string, bytes: number): void {
    if (!bytes) return;
    appendFileSync(this.path, data);
    this.size += bytes;
  }

  private rotate(): void {
    if (this.opts.maxFile <= 1) {
      rmSync(this.path, { force: true });
    } else {
      for (let i = this.opts.maxFile - 1; i >= 1; i--) {
        const from = i === 1 ? this.path : `${this.path}.${i - 1}`;
        if (existsSync(from)) renameSync(from, `${this.path}.${i}`);
      }
    }
    this.size = 0;
  }
}

/** The stored object is the entry (json-file writes exactly its fields). */
function parseLine(line: string): LogEntry | null {
  try {
    const e = JSON.parse(line) as LogEntry;
    return typeof e.log === "string" ? e : null;
  } catch {
    return null;
  }
}

const CHUNK = 64 * 1024;

/**
 * The lines of a log file up to byte `end` (or its end), read a chunk at a
 * time: a container's logs can be tens of MB and a reader only ever holds one
 * chunk (loading the file whole, then an object per line, cost ~15x its size).
 */
function* linesOf(path: string, end = Infinity): Generator<string> {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch {
    return; // rotated away or never written
  }
  try {
    const buf = Buffer.alloc(CHUNK);
    let rest = "";
    for (let pos = 0; pos < end; ) {
      const n = readSync(fd, buf, 0, Math.min(CHUNK, end - pos), pos);
      if (n <= 0) break;
      pos += n;
      const lines = (rest + buf.toString("utf8", 0, n)).split("\n");
      rest = lines.pop() ?? "";
      for (const l of lines) if (l) yield l;
    }
    if (rest) yield rest;
  } finally {
    closeSync(fd);
  }
}

/** Entries up to byte `end` (where following takes over, so no line comes twice). */
function* entriesOf(path: string, want: (e: LogEntry) => boolean, end = Infinity): Generator<LogEntry> {
  for (const l of linesOf(path, end)) {
    const e = parseLine(l);
    if (e && want(e)) yield e;
  }
}

export interface ReadOptions {
  stdout: boolean;
  stderr: boolean;
  tail?: number;
  since?: number;
  until?: number;
  follow: boolean;
  signal?: AbortSignal;
  stopped?: Promise<void>;
}

/** Reads rotated files oldest first, then (with follow) new lines until the container stops or the reader leaves. */
export async function* readLogs(path: string, o: ReadOptions): AsyncGenerator<LogEntry> {
  const files: string[] = [];
  for (let i = 20; i >= 1; i--) if (existsSync(`${path}.${i}`)) files.push(`${path}.${i}`);
  files.push(path);
  const want = (e: LogEntry) => {
    if (e.stream === "stdout" ? !o.stdout : !o.stderr) return false;
    const t = Date.parse(e.time) / 1000;
    if (o.since !== undefined && t < o.since) return false;
    if (o.until !== undefined && t > o.until) return false;
    return true;
  };
  // Following holds the file open from before the first read, so what it holds is never lost:
  // a rotation renames it, and a remove right after the exit unlinks it (docker-py's
  // containers.run reads its follow stream only after removing the container).
  let fd = o.follow ? openOrNull(path) : null;
  // Where following starts is fixed before the first yield: lines written while
  // the reader is busy must not be skipped.
  let offset = fd !== null ? fstatSync(fd).size : existsSync(path) ? statSync(path).size : 0;
  try {
  if (o.tail === undefined || o.tail < 0) {
    let n = 0;
    for (const f of files) {
      for (const e of entriesOf(f, want, f === path ? offset : Infinity)) {
        yield e;
        // Reading 10 MB of logs takes a second: let the daemon serve others meanwhile.
        if (++n % 2000 === 0) await new Promise((ok) => setImmediate(ok));
      }
    }
  } else if (o.tail > 0) {
    // Only the last `tail` entries are ever held.
    const last: LogEntry[] = [];
    for (const f of files) for (const e of entriesOf(f, want, f === path ? offset : Infinity)) if (last.push(e) > o.tail) last.shift();
    yield* last;
  }
  if (!o.follow) return;
  let stopped = false;
  void o.stopped?.then(() => (stopped = true));
  let rest = "";
  for (;;) {
    if (fd === null && (fd = openOrNull(path)) !== null) offset = 0; // the first output came after we started
    if (fd !== null) {
      const size = fstatSync(fd).size;
      if (size > offset) {
        // A chunk at a time: a reader that fell behind must not pull megabytes in at once.
        const buf = Buffer.alloc(Math.min(size - offset, CHUNK));
        const n = readSync(fd, buf, 0, buf.length, offset);
        offset += n;
        const lines = (rest + buf.toString("utf8", 0, n)).split("\n");
        rest = lines.pop() ?? "";
        for (const l of lines) {
          const e = parseLine(l);
          if (e && want(e)) yield e;
        }
        continue;
      }
      // At the end of the file we hold: if the path now names another file, it was rotated.
      const now = statOrNull(path);
      if (now && now.ino !== fstatSync(fd).ino) {
        closeSync(fd);
        fd = openOrNull(path);
        offset = 0;
        rest = "";
        continue;
      }
    }
    if (o.signal?.aborted) return;
    if (o.until !== undefined && Date.now() / 1000 > o.until) return;
    if (stopped) {
      // one more look: the last lines may have landed just before the stop
      if (fd !== null && fstatSync(fd).size > offset) continue;
      if (fd === null && existsSync(path)) continue;
      return;
    }
    await Bun.sleep(100);
  }
  } finally {
    if (fd !== null) closeSync(fd);
  }
}

function openOrNull(path: string): number | null {
  try {
    return openSync(path, "r");
  } catch {
    return null;
  }
}

function statOrNull(path: string): Stats | null {
  try {
    return statSync(path);
  } catch {
    return null;
  }
}

export const jsonFileDriver: LogDriver = {
  open: (path, config) => new JsonFileLogger(path, parseLogOpts(config)),
  read: readLogs,
};
