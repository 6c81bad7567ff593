// OCI image spec, layer.md "Whiteouts": `.wh.NAME` deletes NAME from lower
// layers; `.wh..wh..opq` in a directory hides all lower entries of it. Other
// `.wh..wh.` names are AUFS bookkeeping and are skipped (as Docker does).
// On overlayfs (Documentation/filesystems/overlayfs.rst) a whiteout is a 0:0
// character device and an opaque dir carries trusted.overlay.opaque="y".
export const WH_PREFIX = ".wh.";
export const WH_META_PREFIX = ".wh..wh.";
export const WH_OPAQUE = ".wh..wh..opq";
export const OVERLAY_OPAQUE_XATTR = "trusted.overlay.opaque";
/** overlayfs' own xattrs: never taken from a tar, never exported into one. */
export const OVERLAY_XATTR_PREFIX = "trusted.overlay.";

export type WhiteoutMode = "overlay" | "apply";

export type Whiteout =
  | { kind: "opaque" }
  | { kind: "meta" }
  | { kind: "file"; name: string }
  | null;

export function parseWhiteout(base: string): Whiteout {
  if (base === WH_OPAQUE) return { kind: "opaque" };
  if (base.startsWith(WH_META_PREFIX)) return { kind: "meta" };
  if (base.startsWith(WH_PREFIX)) return { kind: "file", name: base.slice(WH_PREFIX.length) };
  return null;
}
