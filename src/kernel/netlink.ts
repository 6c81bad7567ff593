// rtnetlink over an AF_NETLINK socket: links, addresses and routes, without the
// `ip` tool. The network driver takes the `Netlink` interface so unit tests can
// pass a fake; `openNetlink()` returns the real one.
import { SyscallError } from "./libc.ts";
import { closeFd, inNetns, openNetns, openRouteSocket, recvNetlink, sendNetlink } from "./netlink-ffi.ts";
import * as M from "./netlink-msg.ts";

export type { AddrInfo, LinkInfo, RouteInfo } from "./netlink-msg.ts";

export const ENODEV = 19;
export { AF_INET, AF_INET6 } from "./netlink-msg.ts";
export const EEXIST = 17;
export const ESRCH = 3;

export interface VethOptions {
  mtu?: number;
  /** Create the peer directly in this network namespace (an open nsfs fd). */
  peerNetnsFd?: number;
}

export interface Netlink {
  links(): M.LinkInfo[];
  link(name: string): M.LinkInfo | null;
  /** Addresses (routes) of one family: AF_INET unless AF_INET6 is given. */
  addrs(family?: number): M.AddrInfo[];
  routes(family?: number): M.RouteInfo[];
  createBridge(name: string, o?: { mtu?: number }): void;
  createVeth(name: string, peer: string, o?: VethOptions): void;
  setUp(name: string, up?: boolean): void;
  setMtu(name: string, mtu: number): void;
  /** Enslaves `name` to the bridge `master` (null releases it). */
  setMaster(name: string, master: string | null): void;
  /** Moves a link into another netns; with `newName`, renames it in the same message. */
  setNetns(name: string, netnsFd: number, newName?: string): void;
  rename(name: string, newName: string): void;
  setMac(name: string, mac: string): void;
  /** No IPv6 link-local address on `name` (set before it goes up): the kernel's addr_gen_mode none. */
  noIpv6LinkLocal(name: string): void;
  addAddr(name: string, ip: string, prefixLen: number): void;
  delAddr(name: string, ip: string, prefixLen: number): void;
  addDefaultRoute(gateway: string, dev: string): void;
  deleteLink(name: string): void;
  close(): void;
}

/** A netlink error carrying the kernel's errno, so callers can tell ENODEV/EEXIST apart. */
export class NetlinkError extends SyscallError {
  override name = "NetlinkError";
}

export function openNetlink(): Netlink {
  return new RouteSocket(openRouteSocket());
}

/**
 * A netlink handle whose socket was created inside the netns at `nsPath`
 * (`/proc/<pid>/ns/net` or `/run/netns/<name>`): every request it sends acts in
 * that namespace, while the daemon's threads stay in their own. See inNetns.
 */
export function openNetlinkIn(nsPath: string): Netlink {
  return new RouteSocket(inNetns(nsPath, () => openRouteSocket()));
}

export { openNetns };

const broadcast = (ip: string, prefixLen: number): Uint8Array => {
  const b = M.ipv4Bytes(ip);
  const n = ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
  const host = prefixLen >= 32 ? 0 : (0xffffffff >>> prefixLen) >>> 0;
  const r = (n | host) >>> 0;
  return Uint8Array.of(r >>> 24, (r >>> 16) & 255, (r >>> 8) & 255, r & 255);
};

// One receive buffer for every socket: a request sends and receives in one synchronous
// call (recvfrom through FFI), and each reply is copied out before the next. A buffer per
// socket was 256 KB of garbage per handle, and a container on a bridge opens three or
// four (host and inside its netns): ~1 MB per `run` waiting for a collection.
let shared: Buffer | undefined;
const receiveBuffer = () => (shared ??= Buffer.alloc(1 << 18));

/** The loopback device's index in every network namespace (LOOPBACK_IFINDEX, include/net/net_namespace.h). */
const LOOPBACK_INDEX = 1;

class RouteSocket implements Netlink {
  private seq = Math.floor(Math.random() * 1e6);
  private readonly buf = receiveBuffer();
  /**
   * Indices looked up on this handle. A handle lives for one piece of work
   * (a container's plug), and each change by name asked the kernel for the
   * index first: half of a plug's ~22 round trips. Renames, moves and deletes
   * through it forget the name.
   */
  private readonly indices = new Map<string, number>();

  constructor(private fd: number) {}

  close(): void {
    if (this.fd >= 0) closeFd(this.fd);
    this.fd = -1;
  }

  /** Sends one request and collects replies until the ACK (or DONE for dumps). */
  private request(type: number, flags: number, body: Uint8Array, what: string): M.RawMessage[] {
    const seq = ++this.seq;
    sendNetlink(this.fd, M.encodeMessage(type, flags | M.NLM_F_REQUEST, seq, body));
    const out: M.RawMessage[] = [];
    for (;;) {
      // Copy (Buffer#slice would not): replies outlive the reused receive buffer. A copy
      // constructor, not Uint8Array.from: that walked every byte through the iterator, hot
      // enough that JSC compiled it with its DFG and FTL tiers in every daemon.
      for (const m of M.decodeMessages(new Uint8Array(recvNetlink(this.fd, this.buf)))) {
        if (m.seq !== seq) continue;
        if (m.type === M.NLMSG_DONE) return out;
        if (m.type === M.NLMSG_ERROR) {
          const e = M.decodeError(m.body);
          if (e !== 0) throw new NetlinkError("netlink", e, what);
          return out;
        }
        out.push(m);
        if (!(m.flags & M.NLM_F_MULTI) && !(flags & M.NLM_F_ACK)) return out;
      }
    }
  }

  private index(name: string): number {
    if (name === "lo") return LOOPBACK_INDEX;
    const known = this.indices.get(name);
    if (known !== undefined) return known;
    const l = this.link(name);
    if (!l) throw new NetlinkError("netlink", ENODEV, `link ${name}`);
    this.indices.set(name, l.index);
    return l.index;
  }

  private setLink(name: string, attrs: M.Attr[], o: { flags?: number; change?: number } = {}, what = ""): void {
    const body = M.concat([M.ifinfomsg({ index: this.index(name), ...o }), M.encodeAttrs(attrs)]);
    this.request(M.RTM_NEWLINK, M.NLM_F_ACK, body, `${what} ${name}`);
  }

  links(): M.LinkInfo[] {
    return this.request(M.RTM_GETLINK, M.NLM_F_DUMP, M.ifinfomsg(), "dump links")
      .filter((m) => m.type === M.RTM_NEWLINK)
      .map((m) => M.decodeLink(m.body));
  }

  link(name: string): M.LinkInfo | null {
    try {
      const body = M.concat([M.ifinfomsg(), M.encodeAttrs([M.attr.str(M.IFLA_IFNAME, name)])]);
      const [m] = this.request(M.RTM_GETLINK, 0, body, `get link ${name}`);
      return m ? M.decodeLink(m.body) : null;
    } catch (e) {
      if (e instanceof NetlinkError && e.errno === ENODEV) return null;
      throw e;
    }
  }

  addrs(family = M.AF_INET): M.AddrInfo[] {
    return this.request(M.RTM_GETADDR, M.NLM_F_DUMP, M.ifaddrmsg({ family, prefixLen: 0, index: 0 }), "dump addrs")
      .filter((m) => m.type === M.RTM_NEWADDR)
      .map((m) => M.decodeAddr(m.body));
  }

  routes(family = M.AF_INET): M.RouteInfo[] {
    return this.request(M.RTM_GETROUTE, M.NLM_F_DUMP, M.rtmsg({ family, table: 0, protocol: 0, type: 0 }), "dump routes")
      .filter((m) => m.type === M.RTM_NEWROUTE)
      .map((m) => M.decodeRoute(m.body));
  }

  createBridge(name: string, o: { mtu?: number } = {}): void {
    const attrs: M.Attr[] = [M.attr.str(M.IFLA_IFNAME, name)];
    if (o.mtu) attrs.push(M.attr.u32(M.IFLA_MTU, o.mtu));
    attrs.push(M.attr.nested(M.IFLA_LINKINFO, [M.attr.str(M.IFLA_INFO_KIND, "bridge")]));
    const body = M.concat([M.ifinfomsg(), M.encodeAttrs(attrs)]);
    this.request(M.RTM_NEWLINK, M.NLM_F_CREATE | M.NLM_F_EXCL | M.NLM_F_ACK, body, `create bridge ${name}`);
  }

  createVeth(name: string, peer: string, o: VethOptions = {}): void {
    this.request(M.RTM_NEWLINK, M.NLM_F_CREATE | M.NLM_F_EXCL | M.NLM_F_ACK, vethRequest(name, peer, o), `create veth ${name}`);
  }

  setUp(name: string, up = true): void {
    this.setLink(name, [], { flags: up ? M.IFF_UP : 0, change: M.IFF_UP }, up ? "up" : "down");
  }

  setMtu(name: string, mtu: number): void {
    this.setLink(name, [M.attr.u32(M.IFLA_MTU, mtu)], {}, "mtu");
  }

  setMaster(name: string, master: string | null): void {
    this.setLink(name, [M.attr.u32(M.IFLA_MASTER, master ? this.index(master) : 0)], {}, "master");
  }

  setNetns(name: string, netnsFd: number, newName?: string): void {
    const attrs = [M.attr.u32(M.IFLA_NET_NS_FD, netnsFd)];
    // do_setlink() passes IFLA_IFNAME as the name pattern to
    // __dev_change_net_namespace, so the link arrives already renamed.
    if (newName) attrs.push(M.attr.str(M.IFLA_IFNAME, newName));
    try {
      this.setLink(name, attrs, {}, "netns");
    } finally {
      this.indices.delete(name);
    }
  }

  rename(name: string, newName: string): void {
    try {
      this.setLink(name, [M.attr.str(M.IFLA_IFNAME, newName)], {}, "rename");
    } finally {
      this.indices.delete(name);
    }
  }

  setMac(name: string, mac: string): void {
    this.setLink(name, [M.attr.bytes(M.IFLA_ADDRESS, M.macBytes(mac))], {}, "mac");
  }

  noIpv6LinkLocal(name: string): void {
    const mode = new Uint8Array([M.IN6_ADDR_GEN_MODE_NONE]);
    this.setLink(name, [M.attr.nested(M.IFLA_AF_SPEC, [M.attr.nested(M.AF_INET6, [M.attr.bytes(M.IFLA_INET6_ADDR_GEN_MODE, mode)])])], {}, "addr_gen_mode");
  }

  addAddr(name: string, ip: string, prefixLen: number): void {
    this.request(M.RTM_NEWADDR, M.NLM_F_CREATE | M.NLM_F_EXCL | M.NLM_F_ACK, addrRequest(this.index(name), ip, prefixLen), `add addr ${ip}/${prefixLen} on ${name}`);
  }

  delAddr(name: string, ip: string, prefixLen: number): void {
    this.request(M.RTM_DELADDR, M.NLM_F_ACK, addrRequest(this.index(name), ip, prefixLen), `del addr ${ip}/${prefixLen} on ${name}`);
  }

  addDefaultRoute(gateway: string, dev: string): void {
    this.request(M.RTM_NEWROUTE, M.NLM_F_CREATE | M.NLM_F_EXCL | M.NLM_F_ACK, defaultRouteRequest(gateway, this.index(dev)), `default route via ${gateway}`);
  }

  deleteLink(name: string): void {
    try {
      this.request(M.RTM_DELLINK, M.NLM_F_ACK, M.ifinfomsg({ index: this.index(name) }), `delete link ${name}`);
    } finally {
      this.indices.delete(name);
    }
  }
}

/** RTM_NEWLINK body for a veth pair (the peer's ifinfomsg + attrs sit inside VETH_INFO_PEER, see veth_newlink). */
export function vethRequest(name: string, peer: string, o: VethOptions = {}): Uint8Array {
  const peerAttrs: M.Attr[] = [M.attr.str(M.IFLA_IFNAME, peer)];
  if (o.mtu) peerAttrs.push(M.attr.u32(M.IFLA_MTU, o.mtu));
  if (o.peerNetnsFd !== undefined) peerAttrs.push(M.attr.u32(M.IFLA_NET_NS_FD, o.peerNetnsFd));
  const attrs: M.Attr[] = [M.attr.str(M.IFLA_IFNAME, name)];
  if (o.mtu) attrs.push(M.attr.u32(M.IFLA_MTU, o.mtu));
  attrs.push(
    M.attr.nested(M.IFLA_LINKINFO, [
      M.attr.str(M.IFLA_INFO_KIND, "veth"),
      M.attr.nested(M.IFLA_INFO_DATA, [M.attr.bytes(M.VETH_INFO_PEER, M.concat([M.ifinfomsg(), M.encodeAttrs(peerAttrs)]))]),
    ]),
  );
  return M.concat([M.ifinfomsg(), M.encodeAttrs(attrs)]);
}

export function addrRequest(index: number, ip: string, prefixLen: number): Uint8Array {
  if (ip.includes(":")) {
    const a6 = M.ipv6Bytes(ip);
    return M.concat([
      M.ifaddrmsg({ family: M.AF_INET6, prefixLen, index }),
      M.encodeAttrs([M.attr.bytes(M.IFA_LOCAL, a6), M.attr.bytes(M.IFA_ADDRESS, a6), M.attr.u32(M.IFA_FLAGS, M.IFA_F_NODAD)]),
    ]);
  }
  const a = M.ipv4Bytes(ip);
  return M.concat([
    M.ifaddrmsg({ family: M.AF_INET, prefixLen, index }),
    M.encodeAttrs([
      M.attr.bytes(M.IFA_LOCAL, a),
      M.attr.bytes(M.IFA_ADDRESS, a),
      M.attr.bytes(M.IFA_BROADCAST, broadcast(ip, prefixLen)),
    ]),
  ]);
}

export function defaultRouteRequest(gateway: string, oif: number): Uint8Array {
  const gw = M.ipBytes(gateway);
  return M.concat([
    M.rtmsg({ family: gw.family }),
    M.encodeAttrs([M.attr.bytes(M.RTA_GATEWAY, gw.bytes), M.attr.u32(M.RTA_OIF, oif)]),
  ]);
}
