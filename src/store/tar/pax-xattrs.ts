// xattrs travel in PAX records "SCHILY.xattr.NAME=VALUE" whose values are raw bytes
// (Go's archive/tar writes security.capability so): tar-reader.ts keeps them as
// latin1 "binary strings" (one char per byte), paxXattrs() turns them back.
export const XATTR_PAX_PREFIX = "SCHILY.xattr.";

/** xattrs carried by an entry's PAX header. */
export function paxXattrs(pax: Record<string, string> | null | undefined): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  if (!pax) return out;
  for (const [k, v] of Object.entries(pax)) {
    if (k.startsWith(XATTR_PAX_PREFIX)) out.set(k.slice(XATTR_PAX_PREFIX.length), Buffer.from(v, "latin1"));
  }
  return out;
}
