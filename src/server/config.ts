import { DEFAULT_HOST } from "../hosts.ts";
import type { SecurityFlags } from "../engine/security/daemon-defaults.ts";

export interface DaemonConfig {
  hosts: string[];
  root: string;
  execRoot: string;
  storageDriver?: "overlay2" | "vfs";
  insecureRegistries: string[];
  registryMirrors: string[];
  logLevel: string;
  tls?: { cert: string; key: string; ca?: string; verify: boolean };
  bip?: string;
  /** Name of the default bridge device; the nft table is named after it unless it is ctr0. */
  bridge?: string;
  /** Firewall backend; default nftables where `nft` exists, else iptables. */
  firewall?: "nftables" | "iptables";
  defaultAddressPool?: string;
  /** --dns: containers' nameservers unless they name their own (dockerd's daemon-wide --dns). */
  dns?: string[];
  maxConcurrentDownloads: number;
  /** --seccomp-profile, --no-new-privileges, --default-ulimit */
  security: SecurityFlags;
  /** Group owning the unix socket (-G); default `ctr` when that group exists. */
  group?: string;
  /** Containers outlive the daemon (a keeper process holds them); off by default, as dockerd. */
  liveRestore: boolean;
  /** The cgroup every container sits under (cgroupfs: <controller>/<parent>/<id>); `docker` gives dockerd's layout. */
  cgroupParent?: string;
}

export function defaultConfig(): DaemonConfig {
  return {
    hosts: [DEFAULT_HOST],
    root: "/var/lib/ctr",
    execRoot: "/run/ctr",
    insecureRegistries: [],
    registryMirrors: [],
    logLevel: "info",
    maxConcurrentDownloads: 3,
    security: {},
    liveRestore: false,
  };
}
