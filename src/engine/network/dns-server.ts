// The embedded resolver of user networks (Docker's 127.0.0.11 resolver, but
// bound on the network's gateway address so containers need no iptables magic
// in their namespace): A and AAAA records for container names, short ids and
// aliases, as the asking container sees them (its networks, its links);
// everything else relayed to its --dns servers, or the host's resolvers.
import { createSocket, type Socket } from "node:dgram";
import { createServer, connect, type Server } from "node:net";
import { readFileSync } from "node:fs";
import { buildAnswer, parseQuery, TYPE_A, TYPE_AAAA } from "./dns-msg.ts";

/** ips (v4 and v6) for a name we own as seen by the client at `from`, or null when the name is not ours (forward it). */
export type Lookup = (name: string, from: string) => string[] | null;
/** Where to forward the names of the client at `from`. */
export type Upstreams = readonly string[] | ((from: string) => readonly string[]);

/** The host's nameservers: the daemon runs on the host, so loopback resolvers are fine here. */
export function hostResolvers(path = "/etc/resolv.conf"): string[] {
  try {
    return readFileSync(path, "utf8")
      .split("\n")
      .map((l) => /^\s*nameserver\s+(\S+)/.exec(l)?.[1])
      .filter((x): x is string => !!x && x.includes("."));
  } catch {
    return [];
  }
}

export interface DnsServer {
  address: string;
  close(): Promise<void>;
}

function answer(query: Uint8Array, lookup: Lookup, from: string): Uint8Array | null {
  const q = parseQuery(query);
  if (!q) return null;
  const ips = lookup(q.name.replace(/\.$/, ""), from);
  if (ips === null) return null;
  // A gets the v4 addresses, AAAA the v6 ones; other types an empty NOERROR answer.
  const want = q.type === TYPE_A ? ips.filter((ip) => !ip.includes(":")) : q.type === TYPE_AAAA ? ips.filter((ip) => ip.includes(":")) : [];
  return buildAnswer(query, q, want);
}

const upstreamsOf = (u: Upstreams, from: string): readonly string[] => (typeof u === "function" ? u(from) : u);

/** Relays one UDP query to each upstream in turn (dockerd's order) until one answers; null when none does. */
async function forwardUdp(query: Uint8Array, upstreams: readonly string[]): Promise<Uint8Array | null> {
  for (const up of upstreams) {
    const r = await forwardUdpTo(query, up);
    if (r) return r;
  }
  return null;
}

function forwardUdpTo(query: Uint8Array, up: string): Promise<Uint8Array | null> {
  return new Promise((resolve) => {
    const s = createSocket(up.includes(":") ? "udp6" : "udp4");
    let over = false;
    const done = (r: Uint8Array | null) => {
      if (over) return;
      over = true;
      clearTimeout(t);
      s.close();
      resolve(r);
    };
    const t = setTimeout(() => done(null), 3000);
    s.once("message", (m) => done(new Uint8Array(m)));
    s.on("error", () => done(null));
    s.send(query, 53, up);
  });
}

function servfail(query: Uint8Array): Uint8Array | null {
  const q = parseQuery(query);
  return q ? buildAnswer(query, q, [], 2) : null;
}

export async function startDnsServer(address: string, lookup: Lookup, upstreams: Upstreams = hostResolvers(), port = 53): Promise<DnsServer> {
  const udp: Socket = createSocket({ type: "udp4", reuseAddr: true });
  udp.on("message", async (msg, rinfo) => {
    const query = new Uint8Array(msg);
    const r = answer(query, lookup, rinfo.address) ?? (await forwardUdp(query, upstreamsOf(upstreams, rinfo.address))) ?? servfail(query);
    if (r) udp.send(r, rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve, reject) => {
    udp.once("error", reject);
    udp.bind(port, address, () => {
      udp.off("error", reject);
      resolve();
    });
  });
  // A client that stopped listening before our answer came (it had its A record and
  // closed the socket before the AAAA answer) makes the kernel report ICMP port
  // unreachable as ECONNREFUSED on the next recvmsg. Unhandled, that error killed the
  // resolver of the whole network; it is about one client only.
  udp.on("error", () => {});

  // DNS over TCP: 2-byte length prefix (RFC 1035 4.2.2); one query per read is enough for stub resolvers.
  const tcp: Server = createServer((sock) => {
    let buf = Buffer.alloc(0);
    sock.on("error", () => sock.destroy());
    sock.on("data", async (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const query = new Uint8Array(buf.subarray(2, 2 + buf.readUInt16BE(0)));
        buf = buf.subarray(2 + query.length);
        const from = sock.remoteAddress ?? "";
        const r = answer(query, lookup, from) ?? (await forwardTcp(query, upstreamsOf(upstreams, from))) ?? servfail(query);
        if (r) {
          const len = Buffer.alloc(2);
          len.writeUInt16BE(r.length);
          sock.write(Buffer.concat([len, r]));
        }
      }
    });
  });
  // Stub resolvers use UDP; TCP is for long answers. A TCP port someone else holds on
  // the same address must not take the network's names away.
  await new Promise<void>((resolve) => {
    tcp.once("error", (e) => {
      console.error(`ctr: dns over tcp on ${address}: ${e.message}`);
      resolve();
    });
    tcp.listen(port, address, () => resolve());
  });
  return {
    address,
    close: async () => {
      await new Promise<void>((r) => udp.close(() => r()));
      await new Promise<void>((r) => (tcp.listening ? tcp.close(() => r()) : r()));
    },
  };
}

function forwardTcp(query: Uint8Array, upstreams: readonly string[]): Promise<Uint8Array | null> {
  const up = upstreams[0];
  if (!up) return Promise.resolve(null);
  return new Promise((resolve) => {
    const s = connect(53, up);
    let buf = Buffer.alloc(0);
    const done = (r: Uint8Array | null) => {
      s.destroy();
      resolve(r);
    };
    s.setTimeout(3000, () => done(null));
    s.on("error", () => done(null));
    s.on("connect", () => {
      const len = Buffer.alloc(2);
      len.writeUInt16BE(query.length);
      s.write(Buffer.concat([len, query]));
    });
    s.on("data", (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) done(new Uint8Array(buf.subarray(2, 2 + buf.readUInt16BE(0))));
    });
  });
}
