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
};
type EpRow = {
  id: string; network_id: string; container_id: string; container_name: string; ip: string;
  prefix_len: number; mac: string; host_veth: string; aliases: string;
};
type PortRow = {
  container_id: string; endpoint_id: string; proto: string; host_ip: string; host_port: number;
  container_ip: string; container_port: number;
};

const net = (r: NetRow): NetworkRecord => ({
  id: r.id, name: r.name, driver: "bridge", bridge: r.bridge, subnet: r.subnet, gateway: r.gateway,
  internal: !!r.internal, attachable: !!r.attachable, isDefault: !!r.is_default,
  labels: JSON.parse(r.labels), options: JSON.parse(r.options), created: r.created_at,
});
const ep = (r: EpRow): EndpointRecord => ({
  id: r.id, networkId: r.network_id, containerId: r.container_id, containerName: r.container_name,
  ip: r.ip, prefixLen: r.prefix_len, mac: r.mac, hostVeth: r.host_veth, aliases: JSON.parse(r.aliases),
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
        "INSERT INTO networks (id, name, driver, bridge, subnet, gateway, internal, attachable, is_default, labels, options, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      )
      .run(n.id, n.name, n.driver, n.bridge, n.subnet, n.gateway, n.internal ? 1 : 0, n.attachable ? 1 : 0, n.isDefault ? 1 : 0, JSON.stringify(n.labels), JSON.stringify(n.options), n.created);
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
          "INSERT INTO endpoints (id, network_id, container_id, container_name, ip, prefix_len, mac, host_veth, aliases, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .run(e.id, e.networkId, e.containerId, e.containerName, e.ip, e.prefixLen, e.mac, e.hostVeth, JSON.stringify(e.aliases), new Date().toISOString());
      this.db.query("INSERT INTO ip_leases (network_id, ip, endpoint_id) VALUES (?, ?, ?)").run(e.networkId, e.ip, e.id);
    });
  }
  /** Deleting the endpoint cascades to its lease and port maps. */
  deleteEndpoint(id: string): void {
    this.db.query("DELETE FROM endpoints WHERE id = ?").run(id);
  }

  leases(networkId: string): string[] {
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
