// Capability names ↔ bit numbers (<linux/capability.h>), for capset(2) and
// PR_CAPBSET_DROP. Names are accepted with or without the CAP_ prefix.
import { readFileSync } from "node:fs";

const NAMES = [
  "CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID", "SETPCAP",
  "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW", "IPC_LOCK", "IPC_OWNER",
  "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT", "SYS_ADMIN", "SYS_BOOT", "SYS_NICE",
  "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD", "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP",
  "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG", "WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF",
  "CHECKPOINT_RESTORE",
];

/** Docker's default set (moby oci/caps/defaults.go). */
export const DOCKER_DEFAULT_CAPS = [
  "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID",
  "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
];

export function capBit(name: string): number {
  const i = NAMES.indexOf(name.toUpperCase().replace(/^CAP_/, ""));
  if (i < 0) throw new Error(`unknown capability ${name}`);
  return i;
}

export function capMask(names: readonly string[]): bigint {
  return names.reduce((m, n) => m | (1n << BigInt(capBit(n))), 0n);
}

/** Every capability this kernel knows, as a mask. */
export function allCapsMask(last = lastCap()): bigint {
  return (1n << BigInt(last + 1)) - 1n;
}

/** The highest capability this kernel knows (/proc/sys/kernel/cap_last_cap). */
export function lastCap(): number {
  try {
    return Number(readFileSync("/proc/sys/kernel/cap_last_cap", "utf8"));
  } catch {
    return NAMES.length - 1;
  }
}
