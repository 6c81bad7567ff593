// Networks, endpoints, IP leases and port maps in SQLite (migration networks-001).
import type { Database } from "../../store/db.ts";

export interface NetworkRecord {
  id: string;
  name: string;
  driver: "bridge";
  bridge: string;
  subnet: string;
  gateway: string;
  internal: boolean;
  attachable: boolean;
  isDefault: boolean;
  labels: Record<string, string>;
  options: Record<string, string>;
  created: string;
  /** --ipv6: the v6 subnet and gateway ("" when the network has none). */
  subnet6: string;
  gateway6: string;
  enableIPv6: boolean;
  ipam: IpamView;
}

/** IPAM as the client asked for it: Options passed back, Config entries as given (null: chosen by us). */
export interface IpamView {
  options?: Record<string, string> | null;
  configs?: IpamConfigEntry[] | null;
}
export interface IpamConfigEntry {
  Subnet?: string;
  IPRange?: string;
  Gateway?: string;
  AuxiliaryAddresses?: Record<string, string>;
}

export interface EndpointRecord {
  id: string;
  networkId: string;
  containerId: string;
  containerName: string;
  ip: string;
  prefixLen: number;
  mac: string;
  hostVeth: string;
  aliases: string[];
  /** The v6 address on an --ipv6 network ("" otherwise); its prefix is the network's. */
  ip6: string;
  /** Legacy links on a user network, "name:alias": the alias resolves for this endpoint only. */
  links: string[];
  /** IPAMConfig.LinkLocalIPs: extra addresses on the interface. */
  linkLocal: string[];
  /** HostConfig.Dns: where the resolver forwards this endpoint's other names (the host's resolvers when empty). */
  dns: string[];
}

export interface PortMap {
  containerId: string;
  endpointId: string;
  proto: "tcp" | "udp";
  hostIp: string;
  hostPort: number;
  containerIp: string;
  containerPort: number;
}

type NetRow = {
  id: string; name: string; driver: string; bridge: string; subnet: string; gateway: string;
  internal: number; attachable: number; is_default: number; labels: string; options: string; created_at: string;
  subnet6: string; gateway6: string; enable_ipv6: number; ipam: string;
};
type EpRow = {
  id: string; network_id: string; container_id: string; container_name: string; ip: string;
  prefix_len: number; mac: string; host_veth: string; aliases: string;
  ip6: string; links: string; link_local: string; dns: string;
};
type PortRow = {
  container_id: string; endpoint_id: string; proto: string; host_ip: string; host_port: number;
  container_ip: string; container_port: number;
};

const net = (r: NetRow): NetworkRecord => ({
  id: r.id, name: r.name, driver: "bridge", bridge: r.bridge, subnet: r.subnet, gateway: r.gateway,
  internal: !!r.internal, attachable: !!r.attachable, isDefault: !!r.is_default,
  labels: JSON.parse(r.labels), options: JSON.parse(r.options), created: r.created_at,
  subnet6: r.subnet6, gateway6: r.gateway6, enableIPv6: !!r.enable_ipv6, ipam: JSON.parse(r.ipam),
});
const ep = (r: EpRow): EndpointRecord => ({
  id: r.id, networkId: r.network_id, containerId: r.container_id, containerName: r.container_name,
  ip: r.ip, prefixLen: r.prefix_len, mac: r.mac, hostVeth: r.host_veth, aliases: JSON.parse(r.aliases),
  ip6: r.ip6, links: JSON.parse(r.links), linkLocal: JSON.parse(r.link_local), dns: JSON.parse(r.dns),
});
const port = (r: PortRow): PortMap => ({
  containerId: r.container_id, endpointId: r.endpoint_id, proto: r.proto as "tcp" | "udp", hostIp: r.host_ip,
  hostPort: r.host_port, containerIp: r.container_ip, containerPort: r.container_port,
});

export class NetworkStore {
  constructor(readonly db: Database) {}

  tx<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  networks(): NetworkRecord[] {
    return this.db.query<NetRow, []>("SELECT * FROM networks ORDER BY created_at").all().map(net);
  }
  network(id: string): NetworkRecord | null {
    const r = this.db.query<NetRow, [string]>("SELECT * FROM networks WHERE id = ?").get(id);
    return r ? net(r) : null;
  }
  insertNetwork(n: NetworkRecord): void {
    this.db
      .query(
        "INSERT INTO networks (id, name, driver, bridge, subnet, gateway, internal, attachable, is_default, labels, options, created_at, subnet6, gateway6, enable_ipv6, ipam) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      )
      .run(n.id, n.name, n.driver, n.bridge, n.subnet, n.gateway, n.internal ? 1 : 0, n.attachable ? 1 : 0, n.isDefault ? 1 : 0, JSON.stringify(n.labels), JSON.stringify(n.options), n.created, n.subnet6, n.gateway6, n.enableIPv6 ? 1 : 0, JSON.stringify(n.ipam));
  }
  deleteNetwork(id: string): void {
    this.db.query("DELETE FROM networks WHERE id = ?").run(id);
  }

  endpoints(networkId?: string): EndpointRecord[] {
    return (networkId
      ? this.db.query<EpRow, [string]>("SELECT * FROM endpoints WHERE network_id = ? ORDER BY created_at").all(networkId)
      : this.db.query<EpRow, []>("SELECT * FROM endpoints ORDER BY created_at").all()
    ).map(ep);
  }
  endpointsOf(containerId: string): EndpointRecord[] {
    return this.db.query<EpRow, [string]>("SELECT * FROM endpoints WHERE container_id = ? ORDER BY created_at").all(containerId).map(ep);
  }
  /** Inserts the endpoint and its lease in one transaction; the lease's primary key refuses a taken address. */
  insertEndpoint(e: EndpointRecord): void {
    this.tx(() => {
      this.db
        .query(
          "INSERT INTO endpoints (id, network_id, container_id, container_name, ip, prefix_len, mac, host_veth, aliases, created_at, ip6, links, link_local, dns) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .run(e.id, e.networkId, e.containerId, e.containerName, e.ip, e.prefixLen, e.mac, e.hostVeth, JSON.stringify(e.aliases), new Date().toISOString(), e.ip6, JSON.stringify(e.links), JSON.stringify(e.linkLocal), JSON.stringify(e.dns));
      this.db.query("INSERT INTO ip_leases (network_id, ip, endpoint_id) VALUES (?, ?, ?)").run(e.networkId, e.ip, e.id);
      if (e.ip6) this.db.query("INSERT INTO ip_leases (network_id, ip, endpoint_id) VALUES (?, ?, ?)").run(e.networkId, e.ip6, e.id);
    });
  }
  /** Deleting the endpoint cascades to its lease and port maps. */
  deleteEndpoint(id: string): void {
    this.db.query("DELETE FROM endpoints WHERE id = ?").run(id);
  }

  /** IPv4 addresses in use on a network. */
  leases(networkId: string): string[] {
    return this.allLeases(networkId).filter((ip) => !ip.includes(":"));
  }
  /** IPv6 addresses in use on a network. */
  leases6(networkId: string): string[] {
    return this.allLeases(networkId).filter((ip) => ip.includes(":"));
  }
  private allLeases(networkId: string): string[] {
    return this.db.query<{ ip: string }, [string]>("SELECT ip FROM ip_leases WHERE network_id = ?").all(networkId).map((r) => r.ip);
  }

  ports(containerId?: string): PortMap[] {
    return (containerId
      ? this.db.query<PortRow, [string]>("SELECT * FROM port_maps WHERE container_id = ? ORDER BY host_port").all(containerId)
      : this.db.query<PortRow, []>("SELECT * FROM port_maps ORDER BY host_port").all()
    ).map(port);
  }
  insertPorts(list: readonly PortMap[]): void {
    this.tx(() => {
      for (const p of list)
        this.db
          .query("INSERT INTO port_maps (container_id, endpoint_id, proto, host_ip, host_port, container_ip, container_port) VALUES (?, ?, ?, ?, ?, ?, ?)")
          .run(p.containerId, p.endpointId, p.proto, p.hostIp, p.hostPort, p.containerIp, p.containerPort);
    });
  }
}
