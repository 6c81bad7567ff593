// rtnetlink message encoding and decoding, pure (no syscalls) so it is unit-tested
// without root. Layouts from include/uapi/linux/{netlink,rtnetlink,if_link,if_addr}.h
// and Documentation/userspace-api/netlink/intro.rst: every message is a 16-byte
// nlmsghdr, a fixed family header, then 4-byte aligned TLV attributes (rtattr).

export const NLM_F_REQUEST = 0x1;
export const NLM_F_MULTI = 0x2;
export const NLM_F_ACK = 0x4;
export const NLM_F_DUMP = 0x300;
export const NLM_F_REPLACE = 0x100;
export const NLM_F_EXCL = 0x200;
export const NLM_F_CREATE = 0x400;

export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;

export const RTM_NEWLINK = 16;
export const RTM_DELLINK = 17;
export const RTM_GETLINK = 18;
export const RTM_NEWADDR = 20;
export const RTM_DELADDR = 21;
export const RTM_GETADDR = 22;
export const RTM_NEWROUTE = 24;
export const RTM_DELROUTE = 25;
export const RTM_GETROUTE = 26;

export const AF_UNSPEC = 0;
export const AF_INET = 2;
export const AF_INET6 = 10;

export const IFF_UP = 0x1;

export const IFLA_ADDRESS = 1;
export const IFLA_IFNAME = 3;
export const IFLA_MTU = 4;
export const IFLA_LINK = 5;
export const IFLA_MASTER = 10;
export const IFLA_LINKINFO = 18;
export const IFLA_NET_NS_FD = 28;
export const IFLA_AF_SPEC = 26;
/** Inside IFLA_AF_SPEC/AF_INET6 (include/uapi/linux/if_link.h): how the kernel makes link-local addresses. */
export const IFLA_INET6_ADDR_GEN_MODE = 8;
export const IN6_ADDR_GEN_MODE_NONE = 1;
export const IFLA_INFO_KIND = 1;
export const IFLA_INFO_DATA = 2;
export const VETH_INFO_PEER = 1;

export const IFA_ADDRESS = 1;
export const IFA_LOCAL = 2;
export const IFA_LABEL = 3;
export const IFA_BROADCAST = 4;
export const IFA_FLAGS = 8;
/** No duplicate address detection: the address is usable at once (as libnetwork adds container addresses). */
export const IFA_F_NODAD = 0x02;

export const RTA_DST = 1;
export const RTA_OIF = 4;
export const RTA_GATEWAY = 5;
export const RTA_PRIORITY = 6;
export const RTA_PREFSRC = 7;
export const RTA_TABLE = 15;

export const RT_TABLE_MAIN = 254;
export const RTPROT_BOOT = 3;
export const RT_SCOPE_UNIVERSE = 0;
export const RT_SCOPE_LINK = 253;
export const RT_SCOPE_HOST = 254;
export const RTN_UNICAST = 1;

const NLA_TYPE_MASK = 0x3fff;

const align4 = (n: number) => (n + 3) & ~3;

/** One attribute to encode: a payload, or nested attributes. */
export type Attr = { type: number; data: Uint8Array } | { type: number; nested: Attr[] };

export function encodeAttrs(attrs: readonly Attr[]): Uint8Array {
  const parts = attrs.map((a) => {
    const data = "nested" in a ? encodeAttrs(a.nested) : a.data;
    const len = 4 + data.length;
    const out = new Uint8Array(align4(len));
    const v = new DataView(out.buffer);
    v.setUint16(0, len, true);
    // Like iproute2's addattr_nest we leave NLA_F_NESTED clear: rtnetlink parses
    // IFLA_LINKINFO and friends with the *_deprecated parsers, which accept both.
    v.setUint16(2, a.type, true);
    out.set(data, 4);
    return out;
  });
  return concat(parts);
}

export const attr = {
  str: (type: number, s: string): Attr => ({ type, data: new TextEncoder().encode(s + "\0") }),
  u32: (type: number, n: number): Attr => {
    const d = new Uint8Array(4);
    new DataView(d.buffer).setUint32(0, n >>> 0, true);
    return { type, data: d };
  },
  bytes: (type: number, data: Uint8Array): Attr => ({ type, data }),
  nested: (type: number, nested: Attr[]): Attr => ({ type, nested }),
};

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** nlmsghdr + body. The kernel fills nlmsg_pid for us (we send with pid 0). */
export function encodeMessage(type: number, flags: number, seq: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(16 + body.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, out.length, true);
  v.setUint16(4, type, true);
  v.setUint16(6, flags, true);
  v.setUint32(8, seq, true);
  v.setUint32(12, 0, true);
  out.set(body, 16);
  return out;
}

/** struct ifinfomsg (16 bytes). */
export function ifinfomsg(o: { family?: number; type?: number; index?: number; flags?: number; change?: number } = {}): Uint8Array {
  const out = new Uint8Array(16);
  const v = new DataView(out.buffer);
  v.setUint8(0, o.family ?? AF_UNSPEC);
  v.setUint16(2, o.type ?? 0, true);
  v.setInt32(4, o.index ?? 0, true);
  v.setUint32(8, o.flags ?? 0, true);
  v.setUint32(12, o.change ?? 0, true);
  return out;
}

/** struct ifaddrmsg (8 bytes). */
export function ifaddrmsg(o: { family: number; prefixLen: number; scope?: number; index: number }): Uint8Array {
  const out = new Uint8Array(8);
  const v = new DataView(out.buffer);
  v.setUint8(0, o.family);
  v.setUint8(1, o.prefixLen);
  v.setUint8(2, 0);
  v.setUint8(3, o.scope ?? RT_SCOPE_UNIVERSE);
  v.setUint32(4, o.index, true);
  return out;
}

/** struct rtmsg (12 bytes). */
export function rtmsg(o: { family: number; dstLen?: number; table?: number; protocol?: number; scope?: number; type?: number }): Uint8Array {
  const out = new Uint8Array(12);
  out[0] = o.family;
  out[1] = o.dstLen ?? 0;
  out[4] = o.table ?? RT_TABLE_MAIN;
  out[5] = o.protocol ?? RTPROT_BOOT;
  out[6] = o.scope ?? RT_SCOPE_UNIVERSE;
  out[7] = o.type ?? RTN_UNICAST;
  return out;
}

export interface RawMessage {
  type: number;
  flags: number;
  seq: number;
  pid: number;
  body: Uint8Array;
}

/** Splits a datagram into its netlink messages. */
export function decodeMessages(buf: Uint8Array): RawMessage[] {
  const out: RawMessage[] = [];
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let off = 0;
  while (off + 16 <= buf.length) {
    const len = v.getUint32(off, true);
    if (len < 16 || off + len > buf.length) break;
    out.push({
      type: v.getUint16(off + 4, true),
      flags: v.getUint16(off + 6, true),
      seq: v.getUint32(off + 8, true),
      pid: v.getUint32(off + 12, true),
      body: buf.subarray(off + 16, off + len),
    });
    off += align4(len);
  }
  return out;
}

/** Attributes by type (the last one wins; nested flag stripped). */
export function decodeAttrs(buf: Uint8Array): Map<number, Uint8Array> {
  const m = new Map<number, Uint8Array>();
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let off = 0;
  while (off + 4 <= buf.length) {
    const len = v.getUint16(off, true);
    if (len < 4 || off + len > buf.length) break;
    m.set(v.getUint16(off + 2, true) & NLA_TYPE_MASK, buf.subarray(off + 4, off + len));
    off += align4(len);
  }
  return m;
}

/** The errno of an NLMSG_ERROR (0 is an ACK). */
export function decodeError(body: Uint8Array): number {
  return -new DataView(body.buffer, body.byteOffset, body.byteLength).getInt32(0, true);
}

export const cString = (b: Uint8Array | undefined): string => {
  if (!b) return "";
  const z = b.indexOf(0);
  return new TextDecoder().decode(z >= 0 ? b.subarray(0, z) : b);
};
const u32 = (b: Uint8Array | undefined): number | undefined =>
  b && b.length >= 4 ? new DataView(b.buffer, b.byteOffset, 4).getUint32(0, true) : undefined;

export function ipv4Bytes(ip: string): Uint8Array {
  const parts = ip.split(".").map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) throw new Error(`bad IPv4 address ${ip}`);
  return Uint8Array.from(parts);
}
export const ipv4String = (b: Uint8Array): string => Array.from(b.subarray(0, 4)).join(".");

/** The 16 bytes of an IPv6 address in text form ("::" allowed; no embedded IPv4). */
export function ipv6Bytes(ip: string): Uint8Array {
  const [head = "", tail] = ip.split("::");
  const h = head ? head.split(":") : [];
  const t = tail ? tail.split(":") : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill("0"), ...t];
  if (groups.length !== 8 || groups.some((g) => !/^[0-9a-fA-F]{1,4}$/.test(g))) throw new Error(`invalid IPv6 address: ${ip}`);
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    const n = parseInt(g, 16);
    out[2 * i] = n >> 8;
    out[2 * i + 1] = n & 255;
  });
  return out;
}

/** RFC 5952 text of 16 bytes (the longest run of two or more zero groups as "::"). */
export function ipv6String(b: Uint8Array): string {
  const g = Array.from({ length: 8 }, (_, i) => ((b[2 * i] ?? 0) << 8) | (b[2 * i + 1] ?? 0));
  let best = -1;
  let len = 1;
  for (let i = 0; i < 8; i++) {
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > len) [best, len] = [i, j - i];
    if (j > i) i = j;
  }
  const hex = (a: number[]) => a.map((x) => x.toString(16)).join(":");
  return best < 0 ? hex(g) : `${hex(g.slice(0, best))}::${hex(g.slice(best + len))}`;
}

/** An address of either family as bytes, with its family. */
export const ipBytes = (ip: string): { family: number; bytes: Uint8Array } =>
  ip.includes(":") ? { family: AF_INET6, bytes: ipv6Bytes(ip) } : { family: AF_INET, bytes: ipv4Bytes(ip) };

const ipText = (family: number, b: Uint8Array | undefined): string =>
  !b ? "" : family === AF_INET ? ipv4String(b) : family === AF_INET6 ? ipv6String(b) : "";
export function macBytes(mac: string): Uint8Array {
  const parts = mac.split(":").map((h) => parseInt(h, 16));
  if (parts.length !== 6 || parts.some((p) => Number.isNaN(p))) throw new Error(`bad MAC address ${mac}`);
  return Uint8Array.from(parts);
}
export const macString = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join(":");

export interface LinkInfo {
  index: number;
  name: string;
  flags: number;
  up: boolean;
  mtu: number;
  mac: string;
  master: number | null;
  kind: string;
}
export function decodeLink(body: Uint8Array): LinkInfo {
  const v = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const flags = v.getUint32(8, true);
  const a = decodeAttrs(body.subarray(16));
  const info = a.get(IFLA_LINKINFO);
  const addr = a.get(IFLA_ADDRESS);
  return {
    index: v.getInt32(4, true),
    name: cString(a.get(IFLA_IFNAME)),
    flags,
    up: (flags & IFF_UP) !== 0,
    mtu: u32(a.get(IFLA_MTU)) ?? 0,
    mac: addr && addr.length === 6 ? macString(addr) : "",
    master: u32(a.get(IFLA_MASTER)) ?? null,
    kind: info ? cString(decodeAttrs(info).get(IFLA_INFO_KIND)) : "",
  };
}

export interface AddrInfo {
  index: number;
  family: number;
  prefixLen: number;
  address: string;
  label: string;
}
export function decodeAddr(body: Uint8Array): AddrInfo {
  const v = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const family = v.getUint8(0);
  const a = decodeAttrs(body.subarray(8));
  const raw = a.get(IFA_LOCAL) ?? a.get(IFA_ADDRESS);
  return {
    index: v.getUint32(4, true),
    family,
    prefixLen: v.getUint8(1),
    address: ipText(family, raw),
    label: cString(a.get(IFA_LABEL)),
  };
}

export interface RouteInfo {
  family: number;
  dst: string;
  dstLen: number;
  gateway: string;
  oif: number | null;
  table: number;
  type: number;
}
export function decodeRoute(body: Uint8Array): RouteInfo {
  const a = decodeAttrs(body.subarray(12));
  const family = body[0] ?? 0;
  const v4 = (b: Uint8Array | undefined) => ipText(family, b);
  return {
    family,
    dstLen: body[1] ?? 0,
    table: u32(a.get(RTA_TABLE)) ?? body[4] ?? 0,
    type: body[7] ?? 0,
    dst: v4(a.get(RTA_DST)) || (family === AF_INET ? "0.0.0.0" : family === AF_INET6 ? "::" : ""),
    gateway: v4(a.get(RTA_GATEWAY)),
    oif: u32(a.get(RTA_OIF)) ?? null,
  };
}
