// Reads an uncompressed tar (POSIX ustar + pax, GNU long names/links) pushed to it
// chunk by chunk. It replaces tar-stream's extract for layers (issue 16) so that each
// chunk's life is known: push() resolves once the chunk is parsed and every piece of
// file content in it was handed to its entry's body, and a body is handed views of the
// chunk, never copies. Nothing keeps a chunk after that but the bodies (a header cut
// by a chunk boundary and pax/long-name records are copied, they are small), so the
// caller can free a chunk as soon as push() and the bodies are done with it.
//
// Accepted as tar-stream 3 accepted it: ustar and GNU magic (an unknown format is
// refused), checksums, base-256 numbers, "path"/"linkpath"/"size" from pax records,
// a global pax header merged into the next entry's pax header, GNU 'L'/'K' records,
// a trailing "/" making a plain file a directory, zero blocks skipped, a directory's
// size not read as content. Entry types it does not know (GNU sparse 'S', …) come out
// with type null for the caller to refuse. SCHILY.xattr.* values are kept byte-exact
// as latin1 strings (one char per byte), everything else is UTF-8.
import { TarFormatError } from "./errors.ts";
import { XATTR_PAX_PREFIX } from "./pax-xattrs.ts";

export type TarEntryType =
  | "file"
  | "link"
  | "symlink"
  | "character-device"
  | "block-device"
  | "directory"
  | "fifo"
  | "contiguous-file";

export interface TarHeader {
  name: string;
  /** null: a type this reader does not know (the caller refuses it). */
  type: TarEntryType | null;
  mode: number;
  uid: number;
  gid: number;
  /** Bytes of content. */
  size: number;
  /** Seconds since the epoch. */
  mtime: number;
  linkname: string | null;
  devmajor: number;
  devminor: number;
  pax: Record<string, string> | null;
}

/** Where an entry's content goes. */
export interface EntryBody {
  /** A piece of the content: a view of the chunk being parsed (see the top of the file). */
  write(piece: Uint8Array): Promise<void> | void;
  /** The content is complete. */
  end(): Promise<void> | void;
  /** The tar stopped before the content was complete (or something failed): let go. */
  abort(): Promise<void> | void;
}

/** Called for every entry, in order; null skips its content. */
export type OnEntry = (h: TarHeader) => Promise<EntryBody | null> | EntryBody | null;

const BLOCK = 512;
const MAX_LONG_HEADER = 4 << 20; // as tar-stream: a bigger pax/long-name record is refused

type LongKind = "pax" | "pax-global" | "long-name" | "long-link";

const TYPES: Record<number, TarEntryType | LongKind> = {
  0: "file",
  1: "link",
  2: "symlink",
  3: "character-device",
  4: "block-device",
  5: "directory",
  6: "fifo",
  7: "contiguous-file",
  72: "pax", // 'x'
  55: "pax-global", // 'g'
  27: "long-link", // 'K'
  28: "long-name", // 'L'
  30: "long-name", // 'N' (old GNU)
};

const utf8 = new TextDecoder("utf-8", { ignoreBOM: true }); // a name is bytes: keep a leading BOM
/** One char per byte (TextDecoder's "latin1" is windows-1252, which is not byte-exact). */
const latin1 = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("latin1");

export class TarReader {
  private readonly header = new Uint8Array(BLOCK);
  private headerFill = 0;
  /** Content bytes of the current entry (or long record) still to come. */
  private missing = 0;
  /** Padding to the next block after them. */
  private padding = 0;
  private body: EntryBody | null = null;
  private long: { kind: LongKind; buf: Uint8Array; fill: number } | null = null;
  private pax: Record<string, string> | null = null;
  private paxGlobal: Record<string, string> | null = null;
  private longName: string | null = null;
  private longLink: string | null = null;

  constructor(private readonly onEntry: OnEntry) {}

  /** Parses `chunk`; resolves once every piece of content in it was handed to its body. */
  async push(chunk: Uint8Array): Promise<void> {
    let at = 0;
    const len = chunk.byteLength;
    while (at < len) {
      if (this.missing > 0) {
        const n = Math.min(this.missing, len - at);
        this.missing -= n;
        if (this.long) {
          this.long.buf.set(chunk.subarray(at, at + n), this.long.fill);
          this.long.fill += n;
        } else if (this.body) {
          const w = this.body.write(chunk.subarray(at, at + n));
          if (w) await w;
        }
        at += n;
        if (this.missing === 0) await this.contentEnded();
        continue;
      }
      if (this.padding > 0) {
        const n = Math.min(this.padding, len - at);
        this.padding -= n;
        at += n;
        continue;
      }
      // A header: straight from the chunk when it is all there, else gathered.
      let block: Uint8Array;
      if (this.headerFill === 0 && len - at >= BLOCK) {
        block = chunk.subarray(at, at + BLOCK);
        at += BLOCK;
      } else {
        const n = Math.min(BLOCK - this.headerFill, len - at);
        this.header.set(chunk.subarray(at, at + n), this.headerFill);
        this.headerFill += n;
        at += n;
        if (this.headerFill < BLOCK) continue;
        this.headerFill = 0;
        block = this.header;
      }
      await this.onHeader(block);
    }
  }

  /** The tar's bytes are all pushed: throws if it stopped inside an entry or a header. */
  end(): void {
    if (this.missing > 0 || this.padding > 0 || this.headerFill > 0) throw new TarFormatError("Unexpected end of data");
  }

  /** Lets go of the entry being written, if any (after a failure). */
  async abort(): Promise<void> {
    const b = this.body;
    this.body = null;
    await b?.abort();
  }

  private async onHeader(block: Uint8Array): Promise<void> {
    const raw = decodeHeader(block);
    if (raw === null) return; // a zero block (the end marker, or padding between archives)
    const kind = TYPES[raw.typeflag] ?? null;
    if (kind === "pax" || kind === "pax-global" || kind === "long-name" || kind === "long-link") {
      if (raw.size > MAX_LONG_HEADER) throw new TarFormatError("Header exceeds max size");
      if (!(raw.size >= 0)) throw new TarFormatError("Invalid header");
      this.long = { kind, buf: new Uint8Array(raw.size), fill: 0 };
      this.missing = raw.size;
      this.padding = pad(raw.size);
      if (raw.size === 0) this.endLong();
      return;
    }
    const h: TarHeader = {
      name: raw.name,
      type: kind,
      mode: raw.mode,
      uid: raw.uid,
      gid: raw.gid,
      size: raw.size,
      mtime: raw.mtime,
      linkname: raw.linkname,
      devmajor: raw.devmajor,
      devminor: raw.devminor,
      pax: null,
    };
    if (h.type === "file" && h.name.endsWith("/")) h.type = "directory"; // old tars mark directories so
    this.applyLong(h);
    if (!(h.size >= 0)) throw new TarFormatError("Invalid header");
    const body = await this.onEntry(h);
    if (h.type === "directory" || h.size === 0) {
      // tar-stream reads no content for a directory whatever its size says.
      if (body) await body.end();
      return;
    }
    this.body = body;
    this.missing = h.size;
    this.padding = pad(h.size);
  }

  private async contentEnded(): Promise<void> {
    if (this.long) return this.endLong();
    const b = this.body;
    this.body = null;
    if (b) await b.end();
  }

  private endLong(): void {
    const { kind, buf } = this.long!;
    this.long = null;
    switch (kind) {
      case "long-name":
        this.longName = cString(buf, 0, buf.byteLength);
        break;
      case "long-link":
        this.longLink = cString(buf, 0, buf.byteLength);
        break;
      case "pax-global":
        this.paxGlobal = paxRecords(buf);
        break;
      case "pax":
        this.pax = this.paxGlobal === null ? paxRecords(buf) : { ...this.paxGlobal, ...paxRecords(buf) };
        break;
    }
  }

  private applyLong(h: TarHeader): void {
    if (this.longName) h.name = this.longName;
    if (this.longLink) h.linkname = this.longLink;
    this.longName = this.longLink = null;
    const pax = this.pax;
    if (pax === null) return;
    this.pax = null;
    if (pax.path) h.name = pax.path;
    if (pax.linkpath) h.linkname = pax.linkpath;
    if (pax.size) h.size = parseInt(pax.size, 10);
    h.pax = pax;
  }
}

/** A header block as it is, before its type is looked up and long records apply. */
type RawHeader = Omit<TarHeader, "type" | "pax"> & { typeflag: number };

/** One 512-byte header; null for a zero block. */
export function decodeHeader(b: Uint8Array): RawHeader | null {
  let sum = 8 * 0x20; // the checksum field counts as spaces
  let signed = 8 * 0x20;
  for (let i = 0; i < BLOCK; i++) {
    if (i >= 148 && i < 156) continue;
    sum += b[i]!;
    signed += (b[i]! << 24) >> 24;
  }
  if (sum === 8 * 0x20) return null;
  const want = number(b, 148, 8);
  if (want !== sum && want !== signed) throw new TarFormatError("Invalid tar header. Maybe the tar is corrupted or it needs to be gunzipped?");
  let name = cString(b, 0, 100);
  if (isUstar(b)) {
    if (b[345]) name = `${cString(b, 345, 155)}/${name}`;
  } else if (!isGnu(b)) {
    throw new TarFormatError("Invalid tar header: unknown format.");
  }
  return {
    name,
    typeflag: b[156] === 0 ? 0 : b[156]! - 0x30,
    mode: number(b, 100, 8),
    uid: number(b, 108, 8),
    gid: number(b, 116, 8),
    size: number(b, 124, 12),
    mtime: number(b, 136, 12),
    linkname: b[157] === 0 ? null : cString(b, 157, 100),
    devmajor: number(b, 329, 8),
    devminor: number(b, 337, 8),
  };
}

// "ustar\0" then "00" (POSIX) / "ustar " then " \0" (GNU); tar-stream ignores the POSIX version.
function isUstar(b: Uint8Array): boolean {
  return b[257] === 0x75 && b[258] === 0x73 && b[259] === 0x74 && b[260] === 0x61 && b[261] === 0x72 && b[262] === 0;
}
function isGnu(b: Uint8Array): boolean {
  return (
    b[257] === 0x75 && b[258] === 0x73 && b[259] === 0x74 && b[260] === 0x61 && b[261] === 0x72 && b[262] === 0x20 &&
    b[263] === 0x20 && b[264] === 0
  );
}

/** A NUL-terminated UTF-8 field. */
function cString(b: Uint8Array, at: number, len: number): string {
  let end = at;
  const max = at + len;
  while (end < max && b[end] !== 0) end++;
  return utf8.decode(b.subarray(at, end));
}

/** An octal field (leading spaces/NULs, ending at a space or NUL), or base-256 when its top bit is set. */
function number(b: Uint8Array, at: number, len: number): number {
  if (b[at]! & 0x80) {
    // base-256: 0x80 positive, 0xff two's complement negative
    const neg = b[at] === 0xff;
    if (!neg && b[at] !== 0x80) return NaN;
    let v = 0;
    for (let i = at + 1; i < at + len; i++) v = v * 256 + (neg ? 0xff - b[i]! : b[i]!);
    return neg ? -v : v;
  }
  let i = at;
  const max = at + len;
  while (i < max && b[i] === 0x20) i++;
  let end = i;
  while (end < max && b[end] !== 0x20) end++;
  while (i < end && b[i] === 0) i++;
  if (i === end) return 0;
  return parseInt(latin1(b.subarray(i, end)), 8);
}

/** POSIX pax records "%d %s=%s\n". */
export function paxRecords(buf: Uint8Array): Record<string, string> {
  const out: Record<string, string> = {};
  let at = 0;
  while (at < buf.byteLength) {
    let sp = at;
    while (sp < buf.byteLength && buf[sp] !== 0x20) sp++;
    const len = parseInt(latin1(buf.subarray(at, sp)), 10);
    if (!len || len <= sp - at + 1 || at + len > buf.byteLength) return out;
    const rec = buf.subarray(sp + 1, at + len - 1);
    const eq = rec.indexOf(0x3d);
    if (eq < 0) return out;
    const key = utf8.decode(rec.subarray(0, eq));
    const value = rec.subarray(eq + 1);
    out[key] = key.startsWith(XATTR_PAX_PREFIX) ? latin1(value) : utf8.decode(value);
    at += len;
  }
  return out;
}

function pad(size: number): number {
  const r = size % BLOCK;
  return r === 0 ? 0 : BLOCK - r;
}
