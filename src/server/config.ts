import { DEFAULT_HOST } from "../hosts.ts";

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
  defaultAddressPool?: string;
  maxConcurrentDownloads: number;
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
  };
}
