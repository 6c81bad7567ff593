// Just enough of RFC 1035 for the embedded resolver: read a query's first
// question, write an answer with A or AAAA records, or relay bytes untouched.
import { ip6Bytes as ipv6Bytes, ip6String as ipv6String } from "./ipv6.ts";

export const TYPE_A = 1;
export const TYPE_AAAA = 28;
export const RCODE_NXDOMAIN = 3;
export const RCODE_SERVFAIL = 2;

export interface Question {
  id: number;
  flags: number;
  name: string;
  type: number;
  cls: number;
  /** Byte offset just past the question (for copying it into the answer). */
  end: number;
}

export function parseQuery(buf: Uint8Array): Question | null {
  if (buf.length < 12) return null;
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (v.getUint16(4) < 1) return null;
  const labels: string[] = [];
  let off = 12;
  for (;;) {
    const len = buf[off];
    if (len === undefined || len > 63) return null; // no compression in questions we accept
    off++;
    if (len === 0) break;
    if (off + len > buf.length) return null;
    labels.push(new TextDecoder().decode(buf.subarray(off, off + len)));
    off += len;
  }
  if (off + 4 > buf.length) return null;
  return { id: v.getUint16(0), flags: v.getUint16(2), name: labels.join(".").toLowerCase(), type: v.getUint16(off), cls: v.getUint16(off + 2), end: off + 4 };
}

/** A response to `query` carrying `ips` as A (v4) or AAAA (v6) records (empty: NODATA, or NXDOMAIN with rcode). */
export function buildAnswer(query: Uint8Array, q: Question, ips: readonly string[], rcode = 0, ttl = 600): Uint8Array {
  const question = query.subarray(12, q.end);
  const rdata = ips.map((ip) => (ip.includes(":") ? ipv6Bytes(ip) : new Uint8Array(ip.split(".").map(Number))));
  const out = new Uint8Array(12 + question.length + rdata.reduce((n, d) => n + 12 + d.length, 0));
  const v = new DataView(out.buffer);
  v.setUint16(0, q.id);
  // QR, opcode copied, AA, RD copied, RA.
  v.setUint16(2, 0x8000 | (q.flags & 0x7800) | 0x0400 | (q.flags & 0x0100) | 0x0080 | (rcode & 0xf));
  v.setUint16(4, 1);
  v.setUint16(6, ips.length);
  out.set(question, 12);
  let off = 12 + question.length;
  for (const d of rdata) {
    v.setUint16(off, 0xc00c); // pointer to the name in the question
    v.setUint16(off + 2, d.length === 16 ? TYPE_AAAA : TYPE_A);
    v.setUint16(off + 4, 1);
    v.setUint32(off + 6, ttl);
    v.setUint16(off + 10, d.length);
    out.set(d, off + 12);
    off += 12 + d.length;
  }
  return out;
}

/** Encodes a query (used by tests and by nothing else). */
export function buildQuery(id: number, name: string, type = TYPE_A): Uint8Array {
  const labels = name.split(".").filter(Boolean).map((l) => new TextEncoder().encode(l));
  const out = new Uint8Array(12 + labels.reduce((n, l) => n + l.length + 1, 0) + 1 + 4);
  const v = new DataView(out.buffer);
  v.setUint16(0, id);
  v.setUint16(2, 0x0100);
  v.setUint16(4, 1);
  let off = 12;
  for (const l of labels) {
    out[off++] = l.length;
    out.set(l, off);
    off += l.length;
  }
  out[off++] = 0;
  v.setUint16(off, type);
  v.setUint16(off + 2, 1);
  return out;
}

/** The A records of a response (tests). */
export function answerIps(buf: Uint8Array): { rcode: number; ips: string[] } {
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const q = parseQuery(buf);
  const rcode = v.getUint16(2) & 0xf;
  const ips: string[] = [];
  let off = q ? q.end : 12;
  for (let i = 0; i < v.getUint16(6); i++) {
    // Skip a name: either a pointer or labels.
    while (buf[off] !== 0 && (buf[off]! & 0xc0) !== 0xc0) off += buf[off]! + 1;
    off += buf[off] === 0 ? 1 : 2;
    const type = v.getUint16(off);
    const rdlen = v.getUint16(off + 8);
    if (type === TYPE_A && rdlen === 4) ips.push(Array.from(buf.subarray(off + 10, off + 14)).join("."));
    if (type === TYPE_AAAA && rdlen === 16) ips.push(ipv6String(buf.subarray(off + 10, off + 26)));
    off += 10 + rdlen;
  }
  return { rcode, ips };
}
