// IPv6 arithmetic on 128-bit bigints, for --ipv6 networks: parsing, RFC 5952
// text (as Go's net.IP prints it, so inspect shows what dockerd shows), CIDRs.
import { InvalidParameterError } from "../errors.ts";

export interface Cidr6 {
  /** Network address (host bits cleared). */
  base: bigint;
  prefixLen: number;
}

const ALL = (1n << 128n) - 1n;

export function parseIp6(s: string): bigint {
  const bad = () => new InvalidParameterError(`invalid IPv6 address: ${s}`);
  if (!s.includes(":") || (s.match(/::/g) ?? []).length > 1) throw bad();
  const [head, tail] = s.includes("::") ? s.split("::") : [s, undefined];
  const groups = (x: string | undefined) => (x ? x.split(":") : []);
  const h = groups(head);
  const t = groups(tail);
  const fill = tail === undefined ? 0 : 8 - h.length - t.length;
  if (fill < 0 || (tail === undefined && h.length !== 8) || (tail !== undefined && fill < 1)) throw bad();
  const all = [...h, ...Array<string>(fill).fill("0"), ...t];
  let n = 0n;
  for (const g of all) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) throw bad();
    n = (n << 16n) | BigInt(parseInt(g, 16));
  }
  return n;
}

/** RFC 5952: lowercase, no leading zeros, the longest run of two or more zero groups as "::". */
export function formatIp6(n: bigint): string {
  const g = Array.from({ length: 8 }, (_, i) => Number((n >> BigInt(112 - 16 * i)) & 0xffffn));
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j;
  }
  const hex = (a: number[]) => a.map((x) => x.toString(16)).join(":");
  if (best < 0) return hex(g);
  return `${hex(g.slice(0, best))}::${hex(g.slice(best + bestLen))}`;
}

export const mask6 = (prefixLen: number): bigint => (prefixLen === 0 ? 0n : (ALL << BigInt(128 - prefixLen)) & ALL);

export function parseCidr6(s: string): Cidr6 {
  const [ip, len] = s.split("/");
  const prefixLen = Number(len);
  if (!ip || len === undefined || !/^\d{1,3}$/.test(len) || prefixLen > 128) throw new InvalidParameterError(`invalid CIDR: ${s}`);
  return { base: parseIp6(ip) & mask6(prefixLen), prefixLen };
}

export const formatCidr6 = (c: Cidr6): string => `${formatIp6(c.base)}/${c.prefixLen}`;

export const contains6 = (c: Cidr6, ip: bigint): boolean => (ip & mask6(c.prefixLen)) === c.base;

export const overlaps6 = (a: Cidr6, b: Cidr6): boolean => contains6(a, b.base) || contains6(b, a.base);

export const isIp6 = (s: string): boolean => s.includes(":");

/** The 16 bytes of an address, for netlink. */
export function ip6Bytes(s: string): Uint8Array {
  const n = parseIp6(s);
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) out[i] = Number((n >> BigInt(120 - 8 * i)) & 0xffn);
  return out;
}

export function ip6String(b: Uint8Array): string {
  let n = 0n;
  for (const x of b.subarray(0, 16)) n = (n << 8n) | BigInt(x);
  return formatIp6(n);
}
