// HostConfig.Sysctls as runc allows them (libcontainer/configs/validate: sysctl):
// only keys that live in a namespace the container owns. dockerd passes them to
// runc, which refuses the rest at start; we refuse with runc's words.
import { InvalidParameterError } from "../errors.ts";

const IPC_KEYS = new Set([
  "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
  "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced",
]);

export interface OwnedNamespaces {
  /** The container has its own (or a joined, non-host) ipc namespace. */
  ipc: boolean;
  net: boolean;
  uts: boolean;
}

/** Throws runc's message for the first key the container's namespaces do not hold. */
export function checkSysctls(sysctls: Record<string, string> | null | undefined, ns: OwnedNamespaces): void {
  for (const key of Object.keys(sysctls ?? {})) {
    if (IPC_KEYS.has(key) || key.startsWith("fs.mqueue.")) {
      if (ns.ipc) continue;
      throw new InvalidParameterError(`sysctl "${key}" is not allowed in the hosts ipc namespace`);
    }
    if (key.startsWith("net.")) {
      if (ns.net) continue;
      throw new InvalidParameterError(`sysctl "${key}" not allowed in host network namespace`);
    }
    if (ns.uts && key === "kernel.domainname") continue;
    if (ns.uts && key === "kernel.hostname") throw new InvalidParameterError(`sysctl "${key}" is not allowed as it conflicts with the OCI "hostname" field`);
    throw new InvalidParameterError(`sysctl "${key}" is not in a separate kernel namespace`);
  }
}

