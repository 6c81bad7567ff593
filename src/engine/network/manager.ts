// The bridge network driver: bridges, IPAM, veths, published ports, DNS.
// Kernel work goes through the NetKernel seam (netlink, sysctl, firewall), so
// unit tests run it against fakes; the state lives in NetworkStore.
import { randomBytes, createHash } from "node:crypto";
import { writeFileSync } from "node:fs";
import type { Database } from "../../store/db.ts";
import { ConflictError, EngineError, ForbiddenError, InvalidParameterError, NotFoundError } from "../errors.ts";
import { type Netlink, openNetlink, openNetlinkIn, openNetns, NetlinkError, ENODEV, EEXIST, AF_INET6 } from "../../kernel/netlink.ts";
import { closeSync } from "node:fs";
import { type Cidr, contains, formatCidr, formatIp, macForIp, parseCidr, parseIp, size, overlaps } from "./ipv4.ts";
import { type AddressPool, DEFAULT_POOLS, chooseSubnet } from "./subnets.ts";
import { NetworkStore, type EndpointRecord, type IpamConfigEntry, type NetworkRecord, type PortMap } from "./store.ts";
import { contains6, formatCidr6, formatIp6, isIp6, overlaps6, parseCidr6, parseIp6 } from "./ipv6.ts";
import { type Firewall, nftFirewall } from "./nft.ts";
import type { Binding } from "./publish.ts";
import { ephemeralRange, portFree } from "./host-ports.ts";
import { type DnsServer, hostResolvers, startDnsServer } from "./dns-server.ts";

/** What the driver needs from the kernel; `realNetKernel` is the real one. */
export interface NetKernel {
  host(): Netlink;
  /** A netlink handle acting inside the netns at `path`. */
  inNetns(path: string): Netlink;
  openNetnsFd(path: string): number;
  closeFd(fd: number): void;
  sysctl(key: string, value: string): void;
  /** Turns hairpin mode on for a bridge port (a container reaching its own published port). */
  hairpin(dev: string): void;
  firewall: Firewall;
}

export const realNetKernel: NetKernel = {
  host: openNetlink,
  inNetns: openNetlinkIn,
  openNetnsFd: openNetns,
  closeFd: closeSync,
  // net.ipv4.ip_forward → /proc/sys/net/ipv4/ip_forward (sysctl(8) naming).
  sysctl: (key, value) => writeFileSync(`/proc/sys/${key.replaceAll(".", "/")}`, value),
  hairpin: (dev) => writeFileSync(`/sys/class/net/${dev}/brport/hairpin_mode`, "1"),
  firewall: nftFirewall,
};

export interface NetworkManagerOptions {
  db: Database;
  kernel?: NetKernel;
  /** --bip: the default bridge's address and prefix, e.g. 10.200.0.1/24. */
  bip?: string;
  /** --default-address-pool values (Docker's defaults otherwise). */
  pools?: readonly AddressPool[];
  /** Name of the default bridge device. */
  defaultBridge?: string;
  mtu?: number;
  /** Run the embedded DNS server on user networks (default true). */
  dns?: boolean;
  /** The daemon's --dns: where the resolver forwards for containers without their own, and the default bridge's nameservers. */
  upstreams?: readonly string[];
  dnsPort?: number;
}

/** What connect returns, and what the lead stores in NetworkSettings.Networks. */
export interface Endpoint {
  networkId: string;
  networkName: string;
  endpointId: string;
  ipAddress: string;
  prefixLen: number;
  gateway: string;
  macAddress: string;
  aliases: string[];
  /** "" unless the network has IPv6. */
  ipv6Address: string;
  ipv6PrefixLen: number;
  ipv6Gateway: string;
}

export interface ConnectRequest {
  containerId: string;
  /** Container name, with or without Docker's leading "/". */
  name: string;
  /** Where the container's netns is: a pid (its /proc/<pid>/ns/net) or a path. */
  netns: { pid: number } | { path: string };
  aliases?: readonly string[];
  /** --ip */
  ip?: string;
  /** --ip6 (on an --ipv6 network) */
  ip6?: string;
  /** --mac-address (Docker's 02:42:<ipv4> otherwise) */
  mac?: string;
  /** --link-local-ip: more addresses on the interface */
  linkLocal?: readonly string[];
  /** Legacy links on a user network ("name:alias"): names only this endpoint's queries resolve. */
  links?: readonly string[];
  /** HostConfig.Dns: the upstreams the resolver forwards this container's other names to. */
  dns?: readonly string[];
  /** Ports to publish through this endpoint (only the first network publishes, as in Docker). */
  ports?: readonly Binding[];
}

export interface CreateNetworkRequest {
  name: string;
  /** A v4 subnet (shortcut for one ipamConfigs entry). */
  subnet?: string;
  gateway?: string;
  /** IPAM.Config as the client gave it: one v4 and/or one v6 entry. */
  ipamConfigs?: readonly IpamConfigEntry[];
  ipamOptions?: Record<string, string> | null;
  /** --ipv6: endpoints get an address of the v6 subnet too. */
  enableIPv6?: boolean;
  internal?: boolean;
  attachable?: boolean;
  labels?: Record<string, string>;
  options?: Record<string, string>;
}

export const DEFAULT_NETWORK = "bridge";
const RESERVED = new Set(["bridge", "host", "none", "default"]);

/** A random unicast, locally administered MAC (as libnetwork's GenerateRandomMAC). */
function randomMac(): string {
  const b = randomBytes(6);
  b[0] = (b[0]! & 0xfe) | 0x02;
  return [...b].map((x) => x.toString(16).padStart(2, "0")).join(":");
}

const hex = (n: number) => randomBytes(Math.ceil(n / 2)).toString("hex").slice(0, n);
const nsPath = (n: ConnectRequest["netns"]) => ("pid" in n ? `/proc/${n.pid}/ns/net` : n.path);
export const stableId = (name: string) => createHash("sha256").update(`ctr-network:${name}`).digest("hex");

export class NetworkManager {
  readonly store: NetworkStore;
  private readonly k: NetKernel;
  /** Resolvers by network id; a promise so close() also waits for one still binding. */
  private readonly dnsServers = new Map<string, Promise<DnsServer | null>>();
  private readonly ready = new Set<string>();
  /** The firewall state last written (JSON), so an unchanged one is not written again. */
  private appliedFirewall = "";

  constructor(private readonly o: NetworkManagerOptions) {
    this.store = new NetworkStore(o.db);
    this.k = o.kernel ?? realNetKernel;
  }

  // ── networks ────────────────────────────────────────────────────────────

  list(): NetworkRecord[] {
    return this.store.networks();
  }

  /** By full id, unique id prefix, or name; "bridge" creates the default network on first need. */
  find(ref: string): NetworkRecord {
    const all = this.store.networks();
    const byName = all.find((n) => n.name === ref) ?? all.find((n) => n.id === ref);
    if (byName) return byName;
    if (ref === DEFAULT_NETWORK || ref === "default") return this.ensureDefault();
    const prefix = all.filter((n) => ref.length >= 1 && n.id.startsWith(ref));
    if (prefix.length === 1) return prefix[0]!;
    if (prefix.length > 1) throw new InvalidParameterError(`network ${ref} is ambiguous (${prefix.length} matches)`);
    throw new NotFoundError(`network ${ref} not found`);
  }

  /** The default `bridge` network (device ctr0), created on first need. */
  ensureDefault(): NetworkRecord {
    const existing = this.store.networks().find((n) => n.isDefault);
    if (existing) return existing;
    let subnet: Cidr;
    let gateway: string;
    if (this.o.bip) {
      const [ip] = this.o.bip.split("/");
      subnet = parseCidr(this.o.bip);
      gateway = ip!;
    } else {
      subnet = this.pickSubnet();
      gateway = formatIp(subnet.base + 1);
    }
    const bridge = this.o.defaultBridge ?? "ctr0";
    const n: NetworkRecord = {
      id: stableId(DEFAULT_NETWORK), name: DEFAULT_NETWORK, driver: "bridge", bridge, subnet: formatCidr(subnet), gateway,
      internal: false, attachable: false, isDefault: true, labels: {},
      options: {
        "com.docker.network.bridge.default_bridge": "true",
        "com.docker.network.bridge.enable_icc": "true",
        "com.docker.network.bridge.enable_ip_masquerade": "true",
        "com.docker.network.bridge.host_binding_ipv4": "0.0.0.0",
        "com.docker.network.bridge.name": bridge,
        "com.docker.network.driver.mtu": String(this.o.mtu ?? 1500),
      },
      created: new Date().toISOString(),
      subnet6: "", gateway6: "", enableIPv6: false, ipam: { options: null, configs: null },
    };
    this.store.insertNetwork(n);
    return n;
  }

  async create(r: CreateNetworkRequest): Promise<NetworkRecord> {
    if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(r.name)) throw new InvalidParameterError(`invalid network name: ${r.name}`);
    // dockerd's PredefinedNetworkError, trailing space included.
    if (RESERVED.has(r.name)) throw new ForbiddenError(`operation is not permitted on predefined ${r.name} network `);
    if (this.store.networks().some((n) => n.name === r.name)) throw new ConflictError(`network with name ${r.name} already exists`);
    const given = r.ipamConfigs?.length ? [...r.ipamConfigs] : r.subnet ? [{ Subnet: r.subnet, ...(r.gateway ? { Gateway: r.gateway } : {}) }] : [];
    const v4 = given.find((c) => c.Subnet && !isIp6(c.Subnet));
    const v6 = given.find((c) => c.Subnet && isIp6(c.Subnet));
    // dockerd has no default IPv6 pools: --ipv6 needs a v6 subnet (its answer is a 404).
    if (r.enableIPv6 && !v6) throw new NotFoundError("could not find an available, non-overlapping IPv6 address pool among the defaults to assign to the network");
    const { subnet, gateway } = this.v4Config(v4);
    const { subnet6, gateway6 } = this.v6Config(v6);
    const id = hex(64);
    const bridge = r.options?.["com.docker.network.bridge.name"] || `br-${id.slice(0, 12)}`;
    if (this.store.networks().some((n) => n.bridge === bridge)) throw new ConflictError(`bridge device ${bridge} is in use by another network`);
    const n: NetworkRecord = {
      id, name: r.name, driver: "bridge", bridge, subnet: formatCidr(subnet), gateway,
      internal: !!r.internal, attachable: !!r.attachable, isDefault: false, labels: r.labels ?? {}, options: r.options ?? {},
      created: new Date().toISOString(), subnet6, gateway6, enableIPv6: !!r.enableIPv6,
      ipam: { options: r.ipamOptions ?? null, configs: given.length ? given : null },
    };
    this.store.insertNetwork(n);
    // The bridge exists from now on, as dockerd's: another daemon choosing a pool sees its route.
    try {
      this.ensureBridge(n);
    } catch (e) {
      await this.teardownBridge(n).catch(() => {});
      this.store.deleteNetwork(n.id);
      throw e;
    }
    return n;
  }

  private v4Config(c: IpamConfigEntry | undefined): { subnet: Cidr; gateway: string } {
    let subnet: Cidr;
    if (c?.Subnet) {
      subnet = parseCidr(c.Subnet);
      if (subnet.prefixLen > 30) throw new InvalidParameterError(`subnet ${c.Subnet} is too small`);
      const clash = this.store.networks().find((n) => overlaps(parseCidr(n.subnet), subnet));
      if (clash) throw new ConflictError(`Pool overlaps with other one on this address space (${clash.name} ${clash.subnet})`);
    } else {
      subnet = this.pickSubnet();
    }
    // Without a gateway, dockerd's IPAM gives the bridge the first address of the pool (of the IP range, if any).
    const gateway = c?.Gateway || formatIp(this.pool(subnet, c?.IPRange).first);
    if (!contains(subnet, parseIp(gateway))) throw new InvalidParameterError(`failed to allocate gateway (${gateway}): Requested address is out of range`);
    return { subnet, gateway };
  }

  /** The addresses handed out on a subnet: all hosts, or those of --ip-range (never the subnet's own network and broadcast). */
  private pool(subnet: Cidr, range?: string): { first: number; last: number } {
    const r = range ? parseCidr(range) : subnet;
    if (range && !contains(subnet, r.base)) throw new InvalidParameterError(`Invalid address ${range}: It does not belong to any of this network's subnets`);
    const first = Math.max(r.base, subnet.base + 1);
    const last = Math.min(r.base + size(r) - 1, subnet.base + size(subnet) - 2);
    return { first, last };
  }

  private v6Config(c: IpamConfigEntry | undefined): { subnet6: string; gateway6: string } {
    if (!c?.Subnet) return { subnet6: "", gateway6: "" };
    const subnet = parseCidr6(c.Subnet);
    const clash = this.store.networks().find((n) => n.subnet6 && overlaps6(parseCidr6(n.subnet6), subnet));
    if (clash) throw new ConflictError(`Pool overlaps with other one on this address space (${clash.name} ${clash.subnet6})`);
    const gateway6 = c.Gateway || formatIp6(subnet.base + 1n);
    if (!contains6(subnet, parseIp6(gateway6))) throw new InvalidParameterError(`failed to allocate gateway (${gateway6}): Requested address is out of range`);
    return { subnet6: formatCidr6(subnet), gateway6: formatIp6(parseIp6(gateway6)) };
  }

  async remove(ref: string): Promise<void> {
    const n = this.find(ref);
    if (n.isDefault) throw new ForbiddenError(`${n.name} is a pre-defined network and cannot be removed`);
    const eps = this.store.endpoints(n.id);
    // dockerd 20.10 answers 403 here (libnetwork's ActiveEndpointsError is Forbidden).
    if (eps.length) throw new ForbiddenError(`error while removing network: network ${n.name} id ${n.id} has active endpoints`);
    await this.teardownBridge(n);
    this.store.deleteNetwork(n.id);
    this.applyFirewall();
  }

  /** Removes user networks without endpoints (optionally only those a filter keeps); returns their names. */
  async prune(keep: (n: NetworkRecord) => boolean = () => false): Promise<string[]> {
    const gone: string[] = [];
    for (const n of this.store.networks()) {
      if (n.isDefault || keep(n) || this.store.endpoints(n.id).length) continue;
      await this.remove(n.id);
      gone.push(n.name);
    }
    return gone;
  }

  endpoints(networkId?: string): EndpointRecord[] {
    return this.store.endpoints(networkId);
  }

  // ── containers ──────────────────────────────────────────────────────────

  /**
   * Plugs a container into a network: IP lease, veth pair with the host end on
   * the bridge and the other end created directly inside the container's netns
   * (ethN), address, Docker's MAC, routes, then its published ports.
   */
  async connect(ref: string, r: ConnectRequest): Promise<Endpoint> {
    const n = this.find(ref);
    this.ensureBridge(n);
    // The first container on a network may look a name up at once (Compose starts the next service right away).
    await this.dnsServers.get(n.id);
    const name = r.name.replace(/^\//, "");
    if (this.store.endpointsOf(r.containerId).some((e) => e.networkId === n.id))
      throw new ConflictError(`container ${name} is already attached to network ${n.name}`);
    const subnet = parseCidr(n.subnet);
    const ip = r.ip ?? this.freeIp(n);
    if (!contains(subnet, parseIp(ip))) throw new InvalidParameterError(`Invalid address ${ip}: It does not belong to any of this network's subnets`);
    if (ip === n.gateway || this.store.leases(n.id).includes(ip)) throw new ConflictError("Address already in use");
    const ip6 = this.ip6For(n, r.ip6);
    const mac = r.mac || macForIp(ip);
    const ep: EndpointRecord = {
      id: hex(64), networkId: n.id, containerId: r.containerId, containerName: name, ip, prefixLen: subnet.prefixLen, mac,
      hostVeth: `veth${hex(7)}`, aliases: [...(r.aliases ?? [])],
      ip6, links: [...(r.links ?? [])], linkLocal: [...(r.linkLocal ?? [])], dns: [...(r.dns ?? [])],
    };
    try {
      this.store.insertEndpoint(ep);
    } catch (e) {
      throw new ConflictError("Address already in use", { cause: e });
    }
    try {
      this.plug(n, ep, nsPath(r.netns));
      if (r.ports?.length) await this.publish(ep, r.ports);
    } catch (e) {
      this.unplug(ep);
      this.store.deleteEndpoint(ep.id);
      this.applyFirewall();
      throw e;
    }
    return this.endpointOf(n, ep);
  }

  /** The v6 address of a new endpoint: the one asked for, or the lowest free; "" on a network without IPv6. */
  private ip6For(n: NetworkRecord, asked: string | undefined): string {
    if (!n.enableIPv6 || !n.subnet6) return "";
    const c = parseCidr6(n.subnet6);
    const used = new Set(this.store.leases6(n.id).map(parseIp6));
    used.add(parseIp6(n.gateway6));
    if (asked) {
      const want = parseIp6(asked);
      if (!contains6(c, want)) throw new InvalidParameterError(`Invalid address ${asked}: It does not belong to any of this network's subnets`);
      if (used.has(want)) throw new ConflictError("Address already in use");
      return formatIp6(want);
    }
    for (let i = 1n; i < 1n << 20n; i++) if (!used.has(c.base + i)) return formatIp6(c.base + i);
    throw new ConflictError(`no available IPv6 addresses on network ${n.name}`);
  }

  async disconnect(ref: string, containerId: string): Promise<void> {
    const n = this.find(ref);
    const ep = this.store.endpointsOf(containerId).find((e) => e.networkId === n.id);
    // A plain error, as dockerd's (its 500).
    if (!ep) throw new EngineError(`container ${containerId} is not connected to network ${n.name}`);
    this.release(ep);
    this.applyFirewall();
  }

  /** Everything a removed or stopped container held: veths, leases, port maps. */
  async disconnectAll(containerId: string): Promise<void> {
    const eps = this.store.endpointsOf(containerId);
    for (const ep of eps) this.release(ep);
    if (eps.length) this.applyFirewall();
  }

  /**
   * What a container whose processes are gone held. Its netns dies with its
   * last process and the kernel deletes the veth pair then; deleting it
   * ourselves would wait on that teardown (~15 ms of every exit). So the lease
   * and port maps go now, and a sweep a little later removes any veth that
   * is still there (a netns kept alive elsewhere); reconcile covers a crash.
   */
  /** `--network none`: the fresh netns keeps only `lo`, brought up as dockerd does. */
  loopbackUp(netns: ConnectRequest["netns"]): void {
    const inner = this.k.inNetns(nsPath(netns));
    try {
      inner.setUp("lo");
      // IPv6 off, as dockerd leaves such a container: no ::1 either.
      dropLoopback6(inner);
    } finally {
      inner.close();
    }
  }

  async releaseExited(containerId: string): Promise<void> {
    const eps = this.store.endpointsOf(containerId);
    for (const ep of eps) this.store.deleteEndpoint(ep.id);
    if (eps.length) this.applyFirewall();
    const veths = eps.map((e) => e.hostVeth);
    if (veths.length) setTimeout(() => this.sweepVeths(veths), VETH_SWEEP_MS).unref();
  }

  private sweepVeths(names: string[]): void {
    const nl = this.k.host();
    try {
      for (const name of names) if (nl.link(name)) tryDelete(nl, name);
    } catch (e) {
      console.error(`ctr: veth sweep: ${(e as Error).message}`);
    } finally {
      nl.close();
    }
  }

  /** The container's endpoints, as connect returned them. */
  endpointsOf(containerId: string): Endpoint[] {
    return this.store.endpointsOf(containerId).map((e) => this.endpointOf(this.store.network(e.networkId)!, e));
  }

  portsOf(containerId: string): PortMap[] {
    return this.store.ports(containerId);
  }

  /**
   * The names our resolver answers on a network: container name, short id,
   * aliases. Every endpoint that has the name answers (an alias of several
   * containers, a scaled service): its v4 and, on an IPv6 network, v6 address.
   */
  resolve(networkId: string, name: string): string[] | null {
    const q = name.toLowerCase();
    const hits = this.store
      .endpoints(networkId)
      .filter((e) => e.containerName.toLowerCase() === q || e.containerId.slice(0, 12) === q || e.containerId === q || e.aliases.some((a) => a.toLowerCase() === q));
    return hits.length ? hits.flatMap((e) => (e.ip6 ? [e.ip, e.ip6] : [e.ip])) : null;
  }

  /**
   * A name asked by the container at `from` on `networkId`, as dockerd's
   * per-container resolver answers it: the container's links first, then the
   * names of every network it is on (the one asked first), not only this one.
   */
  resolveFrom(networkId: string, from: string, name: string): string[] | null {
    const me = this.querier(networkId, from);
    if (!me) return this.resolve(networkId, name);
    const q = name.toLowerCase();
    const order = [me, ...this.store.endpointsOf(me.containerId).filter((e) => e.id !== me.id)];
    for (const ep of order) {
      for (const l of ep.links) {
        const [target = "", alias = target] = l.split(":");
        if (alias.toLowerCase() === q) {
          const hit = this.resolve(ep.networkId, target);
          if (hit) return hit;
        }
      }
    }
    for (const ep of order) {
      const hit = this.resolve(ep.networkId, name);
      if (hit) return hit;
    }
    return null;
  }

  /** Where the resolver forwards names that are not ours for the container at `from`: its --dns, else the host's. */
  upstreamsFor(networkId: string, from: string): readonly string[] {
    const me = this.querier(networkId, from);
    return me?.dns.length ? me.dns : this.defaultUpstreams();
  }

  /** The daemon's --dns (default-bridge containers get it in resolv.conf, as with dockerd). */
  daemonDns(): string[] {
    return [...(this.o.upstreams ?? [])];
  }

  /** The daemon's --dns, else the host's resolvers (the daemon runs on the host, so loopback ones work here). */
  defaultUpstreams(): readonly string[] {
    return this.o.upstreams?.length ? this.o.upstreams : hostResolvers();
  }

  private querier(networkId: string, from: string): EndpointRecord | undefined {
    const ip = from.replace(/^::ffff:/, "");
    return this.store.endpoints(networkId).find((e) => e.ip === ip || e.ip6 === ip);
  }

  /**
   * Daemon start: drop endpoints (and so leases and port maps) of containers
   * that no longer run, delete veths left on our bridges, recreate bridges of
   * known networks (after a reboot) and rewrite the firewall table.
   */
  async reconcile(isRunning: (containerId: string) => boolean): Promise<{ removedEndpoints: number; removedVeths: string[] }> {
    let removedEndpoints = 0;
    for (const ep of this.store.endpoints()) {
      if (isRunning(ep.containerId)) continue;
      this.release(ep);
      removedEndpoints++;
    }
    const nets = this.store.networks();
    const keep = new Set(this.store.endpoints().map((e) => e.hostVeth));
    const removedVeths: string[] = [];
    const nl = this.k.host();
    try {
      const links = nl.links();
      const bridges = new Map(links.filter((l) => nets.some((n) => n.bridge === l.name)).map((l) => [l.index, l.name]));
      for (const l of links) {
        if (l.kind === "veth" && /^veth[0-9a-f]{7}$/.test(l.name) && l.master !== null && bridges.has(l.master) && !keep.has(l.name)) {
          tryDelete(nl, l.name);
          removedVeths.push(l.name);
        }
      }
    } finally {
      nl.close();
    }
    // Every network's bridge, as dockerd restores them: its route keeps other daemons off its subnet.
    for (const n of nets) this.ensureBridge(n);
    this.applyFirewall();
    return { removedEndpoints, removedVeths };
  }

  /** Daemon shutdown: stop resolvers. Bridges, veths and rules stay with running containers. */
  async close(): Promise<void> {
    for (const s of this.dnsServers.values()) await (await s)?.close();
    this.dnsServers.clear();
  }

  /** Tests and `ctr system reset`: remove bridges of every network and our firewall table. */
  async destroyAll(): Promise<void> {
    for (const ep of this.store.endpoints()) this.release(ep);
    for (const n of this.store.networks()) {
      await this.teardownBridge(n);
      this.store.deleteNetwork(n.id);
    }
    await this.close();
    this.k.firewall.clear();
    this.appliedFirewall = "";
  }

  // ── internals ───────────────────────────────────────────────────────────

  private endpointOf(n: NetworkRecord, e: EndpointRecord): Endpoint {
    return {
      networkId: n.id, networkName: n.name, endpointId: e.id, ipAddress: e.ip, prefixLen: e.prefixLen,
      // dockerd shows the gateway of internal networks too (they just get no default route through it).
      gateway: n.gateway, macAddress: e.mac, aliases: e.aliases,
      ipv6Address: e.ip6, ipv6PrefixLen: e.ip6 ? parseCidr6(n.subnet6).prefixLen : 0, ipv6Gateway: e.ip6 ? n.gateway6 : "",
    };
  }

  /** Subnets in use on the host (routes and addresses, minus default routes) and by our networks. */
  private taken(): Cidr[] {
    const nl = this.k.host();
    try {
      const out: Cidr[] = this.store.networks().map((n) => parseCidr(n.subnet));
      for (const r of nl.routes()) if (r.dstLen > 0 && r.dst) out.push(parseCidr(`${r.dst}/${r.dstLen}`));
      for (const a of nl.addrs()) if (a.address && !a.address.startsWith("127.")) out.push(parseCidr(`${a.address}/${a.prefixLen}`));
      return out;
    } finally {
      nl.close();
    }
  }

  private pickSubnet(): Cidr {
    const c = chooseSubnet(this.o.pools ?? DEFAULT_POOLS, this.taken());
    if (!c) throw new ConflictError("could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network");
    return c;
  }

  /** Lowest free host address (Docker allocates sequentially; lowest-free keeps it compact across restarts). */
  private freeIp(n: NetworkRecord): string {
    const range = n.ipam.configs?.find((x) => x.Subnet && !isIp6(x.Subnet))?.IPRange;
    const { first, last } = this.pool(parseCidr(n.subnet), range);
    const used = new Set(this.store.leases(n.id).map(parseIp));
    used.add(parseIp(n.gateway));
    for (let ip = first; ip <= last; ip++) if (!used.has(ip >>> 0)) return formatIp(ip >>> 0);
    throw new ConflictError(`no available IPv4 addresses on network ${n.name}`);
  }

  private mtu(): number {
    return this.o.mtu ?? 1500;
  }

  /** Bridge device with the gateway address, up; forwarding and route_localnet on; DNS for user networks. */
  private ensureBridge(n: NetworkRecord): void {
    if (this.ready.has(n.id)) return;
    const nl = this.k.host();
    try {
      if (!nl.link(n.bridge)) {
        nl.createBridge(n.bridge, { mtu: this.mtu() });
        // A bridge without an address of its own takes its lowest port's MAC, so it changes when a
        // container stops or starts, and the others' ARP caches point at the old one for half a minute
        // (no DNS, no gateway). dockerd's bridge driver sets a random MAC at creation for the same reason.
        nl.setMac(n.bridge, randomMac());
      }
      const idx = nl.link(n.bridge)!.index;
      const prefix = parseCidr(n.subnet).prefixLen;
      if (!nl.addrs().some((a) => a.index === idx && a.address === n.gateway)) nl.addAddr(n.bridge, n.gateway, prefix);
      if (n.enableIPv6 && n.gateway6) {
        // A bridge made while the host's default has IPv6 off would refuse the address.
        this.k.sysctl(`net.ipv6.conf.${n.bridge}.disable_ipv6`, "0");
        if (!nl.addrs(AF_INET6).some((a) => a.index === idx && a.address === n.gateway6)) nl.addAddr(n.bridge, n.gateway6, parseCidr6(n.subnet6).prefixLen);
      }
      nl.setUp(n.bridge);
    } finally {
      nl.close();
    }
    this.k.sysctl("net.ipv4.ip_forward", "1");
    // Lets DNAT from 127.0.0.1 (output chain) leave through the bridge; see nft.ts.
    this.k.sysctl(`net.ipv4.conf.${n.bridge}.route_localnet`, "1");
    this.ready.add(n.id);
    this.applyFirewall();
    if (!n.isDefault && this.o.dns !== false && !this.dnsServers.has(n.id)) {
      // Not awaited: connect stays synchronous up to here; names resolve once it listens.
      this.dnsServers.set(
        n.id,
        startDnsServer(n.gateway, (name, from) => this.resolveFrom(n.id, from, name), (from) => this.upstreamsFor(n.id, from), this.o.dnsPort ?? 53).catch((e) => {
          console.error(`ctr: dns on ${n.name} (${n.gateway}): ${(e as Error).message}`);
          return null;
        }),
      );
    }
  }

  /** Waits until the resolver of a network is listening (tests; connect does not need it). */
  async dnsReady(ref: string, timeoutMs = 5000): Promise<void> {
    const n = this.find(ref);
    const s = await Promise.race([this.dnsServers.get(n.id), new Promise<null>((r) => setTimeout(() => r(null), timeoutMs))]);
    if (!s) throw new Error(`dns server of ${n.name} is not running`);
  }

  private async teardownBridge(n: NetworkRecord): Promise<void> {
    await (await this.dnsServers.get(n.id))?.close();
    this.dnsServers.delete(n.id);
    const nl = this.k.host();
    try {
      tryDelete(nl, n.bridge);
    } finally {
      nl.close();
    }
    this.ready.delete(n.id);
  }

  private plug(n: NetworkRecord, ep: EndpointRecord, path: string): void {
    const inner = this.k.inNetns(path);
    const nsfd = this.k.openNetnsFd(path);
    const host = this.k.host();
    try {
      const names = new Set(inner.links().map((l) => l.name));
      let ifname = "eth0";
      for (let i = 1; names.has(ifname); i++) ifname = `eth${i}`;
      host.createVeth(ep.hostVeth, ifname, { peerNetnsFd: nsfd, mtu: this.mtu() });
      host.setMaster(ep.hostVeth, n.bridge);
      host.setUp(ep.hostVeth);
      // Hairpin lets a container reach its own published port through the bridge.
      this.k.hairpin(ep.hostVeth);
      inner.setMac(ifname, ep.mac);
      // dockerd disables IPv6 in a container without a v6 address (no fe80:: on its interfaces);
      // sysctls are per netns and the daemon is not in that one, so the interface makes none.
      if (!ep.ip6) inner.noIpv6LinkLocal(ifname);
      inner.addAddr(ifname, ep.ip, ep.prefixLen);
      if (ep.ip6) inner.addAddr(ifname, ep.ip6, parseCidr6(n.subnet6).prefixLen);
      // dockerd puts --link-local-ip addresses on the interface with the link-local prefix.
      for (const ll of ep.linkLocal) inner.addAddr(ifname, ll, isIp6(ll) ? 64 : 16);
      inner.setUp("lo");
      // ...nor ::1 (it comes with lo): a container with IPv6 gets it back when its v6 endpoint is plugged.
      const v6 = this.store.endpointsOf(ep.containerId).some((e) => e.ip6);
      if (v6) addLoopback6(inner);
      else dropLoopback6(inner);
      inner.setUp(ifname);
      // One default route per netns: the first non-internal network's gateway. An internal
      // network gives none (dockerd 20.10 routes through its gateway and drops in FORWARD; with
      // no route, not even the host's other addresses are reachable).
      if (!n.internal && !inner.routes().some((r) => r.table === 254 && r.dstLen === 0)) inner.addDefaultRoute(n.gateway, ifname);
      if (ep.ip6 && !n.internal && !inner.routes(AF_INET6).some((r) => r.table === 254 && r.dstLen === 0)) inner.addDefaultRoute(n.gateway6, ifname);
    } finally {
      this.k.closeFd(nsfd);
      inner.close();
      host.close();
    }
  }

  private unplug(ep: EndpointRecord): void {
    const nl = this.k.host();
    try {
      tryDelete(nl, ep.hostVeth);
    } finally {
      nl.close();
    }
  }

  private release(ep: EndpointRecord): void {
    this.unplug(ep);
    this.store.deleteEndpoint(ep.id);
  }

  private async publish(ep: EndpointRecord, bindings: readonly Binding[]): Promise<void> {
    const taken = this.store.ports();
    const clash = (proto: string, ip: string, port: number) =>
      taken.some((p) => p.proto === proto && p.hostPort === port && (p.hostIp === ip || p.hostIp === "0.0.0.0" || ip === "0.0.0.0"));
    const maps: PortMap[] = [];
    const [lo, hi] = ephemeralRange();
    for (const b of bindings) {
      parseIp(b.hostIp);
      let port = b.hostPort;
      if (!port) {
        const span = hi - lo + 1;
        const start = Math.floor(Math.random() * span);
        for (let i = 0; i < span && !port; i++) {
          const p = lo + ((start + i) % span);
          if (!clash(b.proto, b.hostIp, p) && (await portFree(b.proto, b.hostIp, p))) port = p;
        }
        if (!port) throw new ConflictError("no free host port to publish on");
      } else if (clash(b.proto, b.hostIp, port)) {
        throw new ConflictError(`Bind for ${b.hostIp}:${port} failed: port is already allocated`);
      }
      const m: PortMap = { containerId: ep.containerId, endpointId: ep.id, proto: b.proto, hostIp: b.hostIp, hostPort: port, containerIp: ep.ip, containerPort: b.containerPort };
      maps.push(m);
      taken.push(m);
    }
    this.store.insertPorts(maps);
    this.applyFirewall();
  }

  /**
   * Rewrites our table only when its content changes: most containers
   * publish nothing, and running `nft` costs ~10 ms of their start and exit.
   */
  private applyFirewall(): void {
    const networks = this.store.networks().filter((n) => this.ready.has(n.id));
    const state = {
      networks: networks.map((n) => ({ bridge: n.bridge, subnet: n.subnet, internal: n.internal })),
      ports: this.store.ports(),
    };
    const key = JSON.stringify(state);
    if (key === this.appliedFirewall) return;
    // No bridge in use: no table at all (a daemon that never networks leaves the host's ruleset as it was).
    if (!state.networks.length && !state.ports.length) this.k.firewall.clear();
    else this.k.firewall.apply(state);
    this.appliedFirewall = key;
  }
}

/** How long after a container's exit its veth is checked for (the kernel has usually removed it). */
const VETH_SWEEP_MS = 2000;

/** errnos of a loopback ::1 that is not there to delete: none (EADDRNOTAVAIL), or no IPv6 in this kernel/netns. */
const NO_LOOPBACK6 = new Set([99, 97, 95, ENODEV]);

/** lo without ::1 (it comes with lo's up): a delete that finds none is fine — no dump to look first. */
function dropLoopback6(nl: Netlink): void {
  try {
    nl.delAddr("lo", "::1", 128);
  } catch (e) {
    if (!(e instanceof NetlinkError && NO_LOOPBACK6.has(e.errno))) throw e;
  }
}

/** lo with ::1, whether or not lo's up already gave it one (EEXIST). */
function addLoopback6(nl: Netlink): void {
  try {
    nl.addAddr("lo", "::1", 128);
  } catch (e) {
    if (!(e instanceof NetlinkError && e.errno === EEXIST)) throw e;
  }
}

function tryDelete(nl: Netlink, name: string): void {
  try {
    nl.deleteLink(name);
  } catch (e) {
    if (!(e instanceof NetlinkError && e.errno === ENODEV)) throw e;
  }
}
