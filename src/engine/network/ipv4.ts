// IPv4 arithmetic on 32-bit unsigned numbers: CIDR parsing, overlap, iteration.
import { InvalidParameterError } from "../errors.ts";

export interface Cidr {
  /** Network address (host bits cleared). */
  base: number;
  prefixLen: number;
}

export function parseIp(s: string): number {
  const p = s.split(".");
  if (p.length !== 4 || p.some((x) => !/^\d{1,3}$/.test(x) || Number(x) > 255)) throw new InvalidParameterError(`invalid IPv4 address: ${s}`);
  return p.reduce((n, x) => n * 256 + Number(x), 0) >>> 0;
}

export const formatIp = (n: number): string => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");

export const mask = (prefixLen: number): number => (prefixLen === 0 ? 0 : (0xffffffff << (32 - prefixLen)) >>> 0);

export function parseCidr(s: string): Cidr {
  const [ip, len] = s.split("/");
  const prefixLen = Number(len);
  if (!ip || len === undefined || !/^\d{1,2}$/.test(len) || prefixLen > 32) throw new InvalidParameterError(`invalid CIDR: ${s}`);
  return { base: (parseIp(ip) & mask(prefixLen)) >>> 0, prefixLen };
}

export const formatCidr = (c: Cidr): string => `${formatIp(c.base)}/${c.prefixLen}`;

export const size = (c: Cidr): number => 2 ** (32 - c.prefixLen);

export const contains = (c: Cidr, ip: number): boolean => ((ip & mask(c.prefixLen)) >>> 0) === c.base;

export const overlaps = (a: Cidr, b: Cidr): boolean => contains(a, b.base) || contains(b, a.base);

/** Splits `pool` into consecutive subnets of `/size` (Docker's default-address-pools semantics). */
export function* split(pool: Cidr, prefixLen: number): Generator<Cidr> {
  if (prefixLen < pool.prefixLen) return;
  const step = 2 ** (32 - prefixLen);
  for (let b = pool.base; b < pool.base + size(pool); b += step) yield { base: b >>> 0, prefixLen };
}

/** Docker's MAC for an endpoint: 02:42 followed by the IPv4 address bytes. */
export function macForIp(ip: string): string {
  const n = parseIp(ip);
  return ["02", "42", ...[n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].map((b) => b.toString(16).padStart(2, "0"))].join(":");
}
