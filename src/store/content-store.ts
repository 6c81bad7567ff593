// The content store: blobs addressed by digest under blobs/sha256/<hex>
// (manifests, configs, compressed layers). As in containerd's
// core/content/content.go the read side and the write side are separate
// interfaces; image-reading code is handed only a ContentReader.
//
// Writes go to <tmp>/ingest-<hex>.partial, are hashed as they arrive, fsynced,
// checked against the expected digest and renamed into place: a blob is either
// whole and verified or absent. A partial ingest stays under tmp so a later
// pull can resume it with an HTTP Range request.
import { constants, fsync, closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, readSync, createReadStream, writeFileSync } from "node:fs";
import { open } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { EngineError, InvalidParameterError, NotFoundError } from "../engine/errors.ts";
import { PositionalWriter } from "./positional-writer.ts";
import { done } from "./owned-buffers.ts";
import { startWriteback } from "../kernel/fs-ffi.ts";

// Every this many bytes written, an ingest has the disk start on them (sync_file_range):
// nothing is written back on its own before the commit's fsync (dirty pages stay ~30 s),
// which then wrote the whole blob while the pull waited: 20-60 ms per 30 MB layer here,
// more when other work uses the disk; with this, 1-5 ms, for ~0.3 ms per call.
const WRITEBACK_STEP = 4 << 20;

/** The blob's bytes did not hash to the digest it was stored under. */
export class DigestMismatchError extends EngineError {
  override name = "DigestMismatchError";
  constructor(
    readonly digest: string,
    readonly actual: string,
  ) {
    super(`filesystem layer verification failed for digest ${digest} (got ${actual})`);
  }
}

const DIGEST = /^sha256:([a-f0-9]{64})$/;

function hexOf(digest: string): string {
  const m = DIGEST.exec(digest);
  if (!m) throw new InvalidParameterError(`invalid digest ${JSON.stringify(digest)}: only sha256 is supported`);
  return m[1]!;
}

export function sha256Digest(bytes: Uint8Array | string): string {
  return `sha256:${new Bun.CryptoHasher("sha256").update(bytes).digest("hex")}`;
}

/** What image code may do with content: look, never write. */
export interface ContentReader {
  has(digest: string): boolean;
  /** Size in bytes, null when absent. */
  size(digest: string): number | null;
  /** The blob's path on disk (for uploads that stream from a file). */
  path(digest: string): string;
  /** Streams the blob from `offset`. */
  open(digest: string, offset?: number): ReadableStream<Uint8Array>;
  readBytes(digest: string): Uint8Array;
  readJson<T>(digest: string): T;
}

/** An ingest in progress: write chunks in order, then commit or abort. */
export interface Ingest {
  readonly digest: string;
  /** Bytes already held from an earlier, interrupted ingest (resume from here). */
  readonly offset: number;
  /** The earlier bytes, to replay through a pipeline that must see the whole blob. */
  replay(): AsyncIterable<Uint8Array>;
  /**
   * Hashes `chunk` now and writes it off the loop (positional-writer.ts); waits only while much is in flight.
   * The ingest is one user of a chunk the caller own()ed (owned-buffers.ts): done() once it is written.
   */
  write(chunk: Uint8Array): Promise<void>;
  /** Checks size and digest of everything written; on mismatch deletes the partial and throws. */
  verify(): void;
  /** Verify (if not yet), the writes done, fsync, rename into the store. */
  commit(): Promise<void>;
  /** Stops (once the writes under way are done); keepPartial leaves the bytes for a later resume. */
  abort(keepPartial: boolean): Promise<void>;
}

export interface ContentWriter {
  /** Starts (or resumes) an ingest of `digest`; one writer per digest at a time. */
  ingest(digest: string, expectedSize?: number): Ingest;
  /** Stores small content in one go (manifests, configs); verifies when digest is given. */
  writeBytes(bytes: Uint8Array, digest?: string): string;
  /** writeBytes with the write and fsync off the loop; a wrong digest throws at once, before it returns. */
  writeBytesAsync(bytes: Uint8Array, digest?: string): Promise<string>;
  delete(digest: string): boolean;
  /** At daemon start: removes staging files and partial ingests older than maxAgeMs. */
  cleanTmp(maxAgeMs?: number): string[];
}

export class ContentStore implements ContentReader, ContentWriter {
  private readonly active = new Set<string>();

  constructor(
    readonly blobsDir: string,
    readonly tmpDir: string,
  ) {
    mkdirSync(blobsDir, { recursive: true, mode: 0o711 });
    mkdirSync(tmpDir, { recursive: true, mode: 0o711 });
  }

  path(digest: string): string {
    return join(this.blobsDir, hexOf(digest));
  }

  has(digest: string): boolean {
    return existsSync(this.path(digest));
  }

  size(digest: string): number | null {
    try {
      return statSync(this.path(digest)).size;
    } catch {
      return null;
    }
  }

  open(digest: string, offset = 0): ReadableStream<Uint8Array> {
    if (!this.has(digest)) throw new NotFoundError(`content ${digest} not found`);
    return Readable.toWeb(createReadStream(this.path(digest), { start: offset })) as unknown as ReadableStream<Uint8Array>;
  }

  readBytes(digest: string): Uint8Array {
    try {
      return readFileSync(this.path(digest));
    } catch {
      throw new NotFoundError(`content ${digest} not found`);
    }
  }

  readJson<T>(digest: string): T {
    return JSON.parse(new TextDecoder().decode(this.readBytes(digest))) as T;
  }

  list(): string[] {
    return readdirSync(this.blobsDir)
      .filter((n) => /^[a-f0-9]{64}$/.test(n))
      .map((n) => `sha256:${n}`);
  }

  partialPath(digest: string): string {
    return join(this.tmpDir, `ingest-${hexOf(digest)}.partial`);
  }

  ingest(digest: string, expectedSize?: number): Ingest {
    const hex = hexOf(digest);
    if (this.active.has(hex)) throw new EngineError(`an ingest of ${digest} is already running`);
    this.active.add(hex);
    try {
      return new FileIngest(digest, this.partialPath(digest), this.path(digest), expectedSize, () => this.active.delete(hex));
    } catch (e) {
      this.active.delete(hex);
      throw e;
    }
  }

  writeBytes(bytes: Uint8Array, digest?: string): string {
    const actual = sha256Digest(bytes);
    if (digest && digest !== actual) throw new DigestMismatchError(digest, actual);
    if (this.has(actual)) return actual;
    const tmp = join(this.tmpDir, `write-${actual.slice(7)}-${process.pid}-${Math.random().toString(36).slice(2)}`);
    writeFileSync(tmp, bytes);
    const fd = openSync(tmp, "r");
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, this.path(actual));
    return actual;
  }

  writeBytesAsync(bytes: Uint8Array, digest?: string): Promise<string> {
    const actual = sha256Digest(bytes);
    if (digest && digest !== actual) throw new DigestMismatchError(digest, actual); // now, not when awaited
    if (this.has(actual)) return Promise.resolve(actual);
    const tmp = join(this.tmpDir, `write-${actual.slice(7)}-${process.pid}-${Math.random().toString(36).slice(2)}`);
    return (async () => {
      try {
        const f = await open(tmp, "w", 0o644);
        try {
          await f.writeFile(bytes);
          await f.sync();
        } finally {
          await f.close();
        }
        renameSync(tmp, this.path(actual));
      } catch (e) {
        rmSync(tmp, { force: true });
        throw e;
      }
      return actual;
    })();
  }

  /**
   * Moves a finished file into the store as `digest` (the caller hashed it
   * while writing it, e.g. a layer it built); fsync first so a crash never
   * leaves a torn blob under a valid name.
   */
  adopt(file: string, digest: string): void {
    if (this.has(digest)) {
      rmSync(file, { force: true });
      return;
    }
    const fd = openSync(file, "r");
    fsyncSync(fd);
    closeSync(fd);
    renameSync(file, this.path(digest));
  }

  delete(digest: string): boolean {
    try {
      rmSync(this.path(digest));
      return true;
    } catch {
      return false;
    }
  }

  cleanTmp(maxAgeMs = 24 * 3600 * 1000): string[] {
    const removed: string[] = [];
    const now = Date.now();
    for (const n of readdirSync(this.tmpDir)) {
      const p = join(this.tmpDir, n);
      const isPartial = n.startsWith("ingest-") && n.endsWith(".partial");
      const isStaging = n.startsWith("write-");
      if (!isPartial && !isStaging) continue;
      if (isPartial && this.active.has(n.slice(7, 71))) continue;
      if (isPartial && now - statSync(p).mtimeMs < maxAgeMs) continue;
      rmSync(p, { force: true });
      removed.push(n);
    }
    return removed;
  }
}

class FileIngest implements Ingest {
  readonly offset: number;
  private readonly hasher = new Bun.CryptoHasher("sha256");
  private fd: number | null;
  private readonly writer: PositionalWriter;
  private written: number;
  /** Bytes written since the disk was last asked to take them. */
  private unsynced = 0;
  private done = false;
  private verified = false;
  private aborted: Promise<void> | null = null;

  constructor(
    readonly digest: string,
    private readonly partial: string,
    private readonly final: string,
    private readonly expectedSize: number | undefined,
    private readonly release: () => void,
  ) {
    let offset = 0;
    if (existsSync(partial)) {
      // Re-hash what an earlier ingest left; a partial longer than the blob is garbage.
      const st = statSync(partial);
      if (expectedSize !== undefined && st.size > expectedSize) rmSync(partial);
      else {
        offset = st.size;
        const buf = Buffer.alloc(1 << 20);
        const rfd = openSync(partial, "r");
        try {
          for (let pos = 0; pos < offset; ) {
            const n = readSync(rfd, buf, 0, buf.length, pos);
            if (n <= 0) break;
            this.hasher.update(buf.subarray(0, n));
            pos += n;
          }
        } finally {
          closeSync(rfd);
        }
      }
    }
    this.offset = offset;
    this.written = offset;
    // Not O_APPEND: Linux appends every pwrite then, whatever its offset (pwrite(2) BUGS).
    this.fd = openSync(partial, constants.O_WRONLY | constants.O_CREAT, 0o600);
    this.writer = new PositionalWriter(this.fd, offset);
  }

  async *replay(): AsyncIterable<Uint8Array> {
    if (this.offset === 0) return;
    const s = createReadStream(this.partial, { start: 0, end: this.offset - 1, highWaterMark: 1 << 20 });
    for await (const c of s) yield c as Uint8Array;
  }

  async write(chunk: Uint8Array): Promise<void> {
    if (this.fd === null || this.aborted) throw new EngineError(`ingest of ${this.digest} is closed`);
    if (this.expectedSize !== undefined && this.written + chunk.byteLength > this.expectedSize) {
      void this.abort(false);
      throw new DigestMismatchError(this.digest, `more than ${this.expectedSize} bytes`);
    }
    this.hasher.update(chunk);
    this.written += chunk.byteLength;
    await this.writer.write(chunk, () => {
      done(chunk);
      this.unsynced += chunk.byteLength;
      if (this.unsynced < WRITEBACK_STEP || this.fd === null) return;
      this.unsynced = 0;
      startWriteback(this.fd);
    });
  }

  verify(): void {
    if (this.verified) return;
    if (this.fd === null) throw new EngineError(`ingest of ${this.digest} is closed`);
    const actual = `sha256:${this.hasher.digest("hex")}`;
    if (actual !== this.digest || (this.expectedSize !== undefined && this.written !== this.expectedSize)) {
      void this.abort(false);
      throw new DigestMismatchError(this.digest, actual);
    }
    this.verified = true;
  }

  async commit(): Promise<void> {
    try {
      this.verify();
    } catch (e) {
      await this.aborted; // the partial is gone when the caller hears of it
      throw e;
    }
    const fd = this.fd!;
    await this.writer.flush();
    // On the thread pool: a layer's fsync stalled every other layer's bytes.
    await new Promise<void>((resolve, reject) => fsync(fd, (e) => (e ? reject(e) : resolve())));
    closeSync(fd);
    this.fd = null;
    renameSync(this.partial, this.final);
    this.finish();
  }

  abort(keepPartial: boolean): Promise<void> {
    this.aborted ??= (async () => {
      // Closing under writes still queued could hand their descriptor to someone else's file.
      await this.writer.flush().catch(() => {});
      if (this.fd !== null) {
        closeSync(this.fd);
        this.fd = null;
      }
      if (!keepPartial) rmSync(this.partial, { force: true });
      this.finish();
    })();
    return this.aborted;
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    this.release();
  }
}
