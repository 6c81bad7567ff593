import type { Migration } from "./index.ts";

export const networkMigrations: Migration[] = [
  {
    id: "networks-001",
    sql: `
-- Bridge networks (the default "bridge" and user networks); host and none are implicit.
CREATE TABLE networks (
  id         TEXT PRIMARY KEY,
  name       TEXT NOT NULL UNIQUE,
  driver     TEXT NOT NULL DEFAULT 'bridge',
  bridge     TEXT NOT NULL UNIQUE,
  subnet     TEXT NOT NULL,
  gateway    TEXT NOT NULL,
  internal   INTEGER NOT NULL DEFAULT 0,
  attachable INTEGER NOT NULL DEFAULT 0,
  is_default INTEGER NOT NULL DEFAULT 0,
  labels     TEXT NOT NULL DEFAULT '{}',
  options    TEXT NOT NULL DEFAULT '{}',
  created_at TEXT NOT NULL
);
-- A container's attachment to a network.
CREATE TABLE endpoints (
  id             TEXT PRIMARY KEY,
  network_id     TEXT NOT NULL REFERENCES networks(id),
  container_id   TEXT NOT NULL,
  container_name TEXT NOT NULL,
  ip             TEXT NOT NULL,
  prefix_len     INTEGER NOT NULL,
  mac            TEXT NOT NULL,
  host_veth      TEXT NOT NULL,
  aliases        TEXT NOT NULL DEFAULT '[]',
  created_at     TEXT NOT NULL,
  UNIQUE (network_id, container_id)
);
-- IPAM: one row per address in use. The primary key is what makes a double
-- assignment impossible, across daemon restarts included.
CREATE TABLE ip_leases (
  network_id  TEXT NOT NULL REFERENCES networks(id),
  ip          TEXT NOT NULL,
  endpoint_id TEXT NOT NULL REFERENCES endpoints(id) ON DELETE CASCADE,
  PRIMARY KEY (network_id, ip)
);
-- Published ports (DNAT rules are rendered from this table).
CREATE TABLE port_maps (
  container_id   TEXT NOT NULL,
  endpoint_id    TEXT NOT NULL REFERENCES endpoints(id) ON DELETE CASCADE,
  proto          TEXT NOT NULL,
  host_ip        TEXT NOT NULL,
  host_port      INTEGER NOT NULL,
  container_ip   TEXT NOT NULL,
  container_port INTEGER NOT NULL,
  PRIMARY KEY (proto, host_ip, host_port)
);
CREATE INDEX port_maps_container ON port_maps(container_id);
`,
  },
  {
    id: "networks-002",
    sql: `
-- IPv6 (--ipv6 networks): the v6 subnet and gateway of a network, an endpoint's v6 address
-- (its lease is a row of ip_leases like a v4 one), whether --ipv6 was asked for. Legacy links by alias ("name:alias"), the
-- endpoint's extra link-local addresses, and the --dns servers its resolver forwards to.
ALTER TABLE networks ADD COLUMN subnet6 TEXT NOT NULL DEFAULT '';
ALTER TABLE networks ADD COLUMN gateway6 TEXT NOT NULL DEFAULT '';
ALTER TABLE networks ADD COLUMN enable_ipv6 INTEGER NOT NULL DEFAULT 0;
-- IPAM as the client gave it (inspect shows it so: a subnet given without gateway stays without).
ALTER TABLE networks ADD COLUMN ipam TEXT NOT NULL DEFAULT '{}';
ALTER TABLE endpoints ADD COLUMN ip6 TEXT NOT NULL DEFAULT '';
ALTER TABLE endpoints ADD COLUMN links TEXT NOT NULL DEFAULT '[]';
ALTER TABLE endpoints ADD COLUMN link_local TEXT NOT NULL DEFAULT '[]';
ALTER TABLE endpoints ADD COLUMN dns TEXT NOT NULL DEFAULT '[]';
`,
  },
];
