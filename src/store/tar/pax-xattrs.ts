// tar-stream decodes PAX record values as UTF-8, which mangles binary xattr
// values such as security.capability (Go's archive/tar writes them as raw
// bytes). We re-read the raw PAX block and keep SCHILY.xattr.* values as
// latin1 "binary strings" (one char per byte); xattrValue() turns them back.
export const XATTR_PAX_PREFIX = "SCHILY.xattr.";

/** PAX records (POSIX pax "%d %s=%s\n") with values kept byte-exact. */
export function rawPaxRecords(buf: Uint8Array): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  let b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  while (b.length > 0) {
    const sp = b.indexOf(0x20);
    if (sp <= 0) break;
    const len = parseInt(b.subarray(0, sp).toString("latin1"), 10);
    if (!(len > sp + 1) || len > b.length) break;
    const rec = b.subarray(sp + 1, len - 1);
    const eq = rec.indexOf(0x3d);
    if (eq > 0) out.set(rec.subarray(0, eq).toString("utf8"), Buffer.from(rec.subarray(eq + 1)));
    b = b.subarray(len);
  }
  return out;
}

interface ExtractInternals {
  _header: { type: string } | null;
  _pax: Record<string, string> | null;
  _paxGlobal: Record<string, string> | null;
  _decodeLongHeader(buf: Uint8Array): void;
}

/** Patches one tar-stream Extract instance so xattr values survive byte-exact. */
export function keepBinaryXattrs(extract: object): void {
  const ex = extract as unknown as ExtractInternals;
  const orig = ex._decodeLongHeader;
  ex._decodeLongHeader = function (this: ExtractInternals, buf: Uint8Array) {
    orig.call(this, buf);
    const type = this._header?.type;
    const target = type === "pax-header" ? this._pax : type === "pax-global-header" ? this._paxGlobal : null;
    if (!target) return;
    for (const [k, v] of rawPaxRecords(buf)) {
      if (k.startsWith(XATTR_PAX_PREFIX)) target[k] = v.toString("latin1");
    }
  };
}

/** xattrs carried by an entry's PAX header. */
export function paxXattrs(pax: Record<string, string> | null | undefined): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  if (!pax) return out;
  for (const [k, v] of Object.entries(pax)) {
    if (k.startsWith(XATTR_PAX_PREFIX)) out.set(k.slice(XATTR_PAX_PREFIX.length), Buffer.from(v, "latin1"));
  }
  return out;
}
