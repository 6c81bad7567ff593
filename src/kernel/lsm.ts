// Which Linux security modules this host runs (for --security-opt apparmor=/label=).
import { existsSync, readFileSync } from "node:fs";

export function apparmorEnabled(): boolean {
  try {
    return readFileSync("/sys/module/apparmor/parameters/enabled", "utf8").trim() === "Y" && existsSync("/sys/kernel/security/apparmor");
  } catch {
    return false;
  }
}

export function selinuxEnabled(): boolean {
  return existsSync("/sys/fs/selinux/enforce");
}
