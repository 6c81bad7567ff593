// A PAX tar writer (POSIX.1-2001). We write our own rather than use
// tar-stream's pack because pack encodes PAX values as UTF-8 text, which
// corrupts binary xattrs (security.capability). Like Docker's archive package,
// mtimes are whole seconds and atime/ctime are not recorded, so the same tree
// gives the same bytes (and the same diff id).
import { createReadStream } from "node:fs";
import { XATTR_PAX_PREFIX } from "./pax-xattrs.ts";

export type EntryType = "file" | "directory" | "symlink" | "link" | "character-device" | "block-device" | "fifo";

export interface TarEntry {
  /** Relative path without leading "/" or "./"; the writer adds "/" to dirs. */
  name: string;
  type: EntryType;
  mode: number;
  uid: number;
  gid: number;
  /** Seconds since the epoch. */
  mtime: number;
  size?: number;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  xattrs?: Map<string, Buffer>;
  /** For regular files with size > 0: where the content is read from. */
  sourcePath?: string;
}

const TYPEFLAG: Record<EntryType, string> = {
  file: "0", link: "1", symlink: "2", "character-device": "3", "block-device": "4", directory: "5", fifo: "6",
};
const BLOCK = 512;
const MAX_OCTAL_8 = 0o7777777;
const MAX_OCTAL_12 = 0o77777777777;

function octal(buf: Buffer, off: number, width: number, value: number): void {
  buf.write(value.toString(8).padStart(width - 1, "0") + "\0", off, width, "latin1");
}

function paxRecord(key: string, value: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`, "utf8"), value, Buffer.from("\n")]);
  let len = body.length + String(body.length).length;
  if (String(len).length !== String(body.length).length) len = body.length + String(len).length;
  return Buffer.concat([Buffer.from(String(len)), body]);
}

/** Splits a name into ustar prefix/name, or null when it needs a PAX path. */
function ustarName(name: string): [string, string] | null {
  if (Buffer.byteLength(name) !== name.length) return null;
  if (name.length <= 100) return ["", name];
  for (let i = name.indexOf("/"); i !== -1; i = name.indexOf("/", i + 1)) {
    if (i <= 155 && name.length - i - 1 <= 100 && name.length - i - 1 > 0) return [name.slice(0, i), name.slice(i + 1)];
  }
  return null;
}

function ustarHeader(e: TarEntry, name: [string, string], linkname: string, typeflag: string, size: number): Buffer {
  const b = Buffer.alloc(BLOCK);
  b.write(name[1], 0, 100, "latin1");
  octal(b, 100, 8, e.mode & 0o7777);
  octal(b, 108, 8, Math.min(e.uid, MAX_OCTAL_8));
  octal(b, 116, 8, Math.min(e.gid, MAX_OCTAL_8));
  octal(b, 124, 12, Math.min(size, MAX_OCTAL_12));
  octal(b, 136, 12, Math.max(0, Math.floor(e.mtime)));
  b.write("        ", 148, 8, "latin1");
  b.write(typeflag, 156, 1, "latin1");
  b.write(linkname, 157, 100, "latin1");
  b.write("ustar\0" + "00", 257, 8, "latin1");
  octal(b, 329, 8, e.devmajor ?? 0);
  octal(b, 337, 8, e.devminor ?? 0);
  b.write(name[0], 345, 155, "latin1");
  let sum = 0;
  for (const byte of b) sum += byte;
  b.write(sum.toString(8).padStart(6, "0") + "\0 ", 148, 8, "latin1");
  return b;
}

/** The header block(s) of one entry: an optional PAX 'x' header, then ustar. */
export function encodeHeader(e: TarEntry): Buffer {
  const name = e.type === "directory" && !e.name.endsWith("/") ? `${e.name}/` : e.name;
  const size = e.type === "file" ? (e.size ?? 0) : 0;
  const records: Buffer[] = [];
  let un = ustarName(name);
  if (!un) {
    records.push(paxRecord("path", Buffer.from(name, "utf8")));
    un = ["", Buffer.from(name, "utf8").subarray(0, 100).toString("latin1")];
  }
  let link = e.linkname ?? "";
  if (Buffer.byteLength(link) !== link.length || link.length > 100) {
    records.push(paxRecord("linkpath", Buffer.from(link, "utf8")));
    link = "";
  }
  if (e.uid > MAX_OCTAL_8) records.push(paxRecord("uid", Buffer.from(String(e.uid))));
  if (e.gid > MAX_OCTAL_8) records.push(paxRecord("gid", Buffer.from(String(e.gid))));
  if (size > MAX_OCTAL_12) records.push(paxRecord("size", Buffer.from(String(size))));
  for (const [k, v] of [...(e.xattrs ?? [])].sort(([a], [b]) => (a < b ? -1 : 1))) {
    records.push(paxRecord(XATTR_PAX_PREFIX + k, v));
  }
  const main = ustarHeader(e, un, link, TYPEFLAG[e.type], size);
  if (records.length === 0) return main;
  const pax = Buffer.concat(records);
  const paxName = `PaxHeaders.0/${un[1]}`.slice(0, 100);
  const paxHdr = ustarHeader({ ...e, uid: 0, gid: 0 }, ["", paxName], "", "x", pax.length);
  return Buffer.concat([paxHdr, pax, padding(pax.length), main]);
}

function padding(n: number): Buffer {
  return Buffer.alloc((BLOCK - (n % BLOCK)) % BLOCK);
}

/** Yields a whole tar for `entries`, reading file bodies as it goes. */
export async function* tarBytes(entries: AsyncIterable<TarEntry> | Iterable<TarEntry>): AsyncGenerator<Uint8Array> {
  for await (const e of entries) {
    yield encodeHeader(e);
    const size = e.type === "file" ? (e.size ?? 0) : 0;
    if (size === 0) continue;
    if (!e.sourcePath) throw new Error(`tar entry ${e.name}: no content source`);
    let written = 0;
    for await (const chunk of createReadStream(e.sourcePath, { start: 0, end: size - 1 })) {
      const c = chunk as Buffer;
      const take = Math.min(c.length, size - written);
      yield c.subarray(0, take);
      written += take;
    }
    // The file shrank since it was stat'ed: keep the archive well-formed.
    if (written < size) yield Buffer.alloc(size - written);
    yield padding(size);
  }
  yield Buffer.alloc(BLOCK * 2);
}
