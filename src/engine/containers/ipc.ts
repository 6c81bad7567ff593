// IpcMode and /dev/shm as dockerd has them (moby daemon/container_operations_unix.go
// setupIpcDirs, oci_linux.go WithIPC and WithMounts): `private` (the default) a new
// IPC namespace with its own /dev/shm tmpfs of ShmSize; `none` a new namespace and
// no /dev/shm at all; `host` the host's namespace and its /dev/shm; `shareable` a
// new namespace whose /dev/shm is a tmpfs on the host (containers/<id>/mounts/shm),
// so that a `container:<id>` joiner binds the very same one and POSIX shm (shm_open)
// is shared along with SysV IPC.
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { mountSpec, unmount } from "../../kernel/mount.ts";
import { EngineError } from "../errors.ts";
import type { Container, HostConfig } from "./types.ts";
import type { ShmSpec } from "../execdriver/types.ts";


/** dockerd's --default-shm-size. */
export const DEFAULT_SHM_SIZE = 64 * 1024 * 1024;

const MODES = new Set(["", "private", "none", "host", "shareable"]);

/** dockerd checks the mode at start (not at create) and answers 500 with these words. */
export function checkIpcMode(mode: string | undefined): void {
  const m = mode ?? "";
  if (!MODES.has(m) && !m.startsWith("container:")) throw new EngineError(`Invalid IPC mode: ${m}`);
}

export const shmSize = (h: HostConfig): number => (Number(h.ShmSize) > 0 ? Number(h.ShmSize) : DEFAULT_SHM_SIZE);

/** The host side of a shareable container's /dev/shm. */
export function shmPath(containersDir: string, id: string): string {
  return join(containersDir, id, "mounts", "shm");
}

/**
 * What the container gets at /dev/shm. `donor` is the container a `container:`
 * joiner takes its IPC from (already checked to be shareable or host).
 */
export function shmSpec(c: Container, containersDir: string, donor?: Container): ShmSpec {
  const mode = c.hostConfig.IpcMode ?? "";
  if (mode === "none") return { kind: "none" };
  if (mode === "host") return { kind: "bind", source: "/dev/shm" };
  if (mode === "shareable") return { kind: "bind", source: shmPath(containersDir, c.id) };
  if (mode.startsWith("container:") && donor) return shmSpec(donor, containersDir);
  return { kind: "tmpfs", size: shmSize(c.hostConfig) };
}

function mounted(path: string): boolean {
  return readFileSync("/proc/self/mounts", "utf8")
    .split("\n")
    .some((l) => (l.split(" ")[1] ?? "").replace(/\\040/g, " ") === path);
}

/** Mounts a shareable container's host-side tmpfs (once per run: it goes when the container stops). */
export function mountShareableShm(containersDir: string, c: Container): void {
  if (c.hostConfig.IpcMode !== "shareable") return;
  const p = shmPath(containersDir, c.id);
  if (mounted(p)) return;
  mkdirSync(p, { recursive: true, mode: 0o700 });
  mountSpec({ type: "tmpfs", source: "shm", options: ["nosuid", "nodev", "noexec", "mode=1777", `size=${shmSize(c.hostConfig)}`] }, p);
}

/**
 * Detached, as dockerd's UnmountIpcMount: a joiner still running keeps its
 * view of the tmpfs until it ends; the host side is gone at once.
 */
export function unmountShareableShm(containersDir: string, id: string): void {
  const p = shmPath(containersDir, id);
  if (!existsSync(p) || !mounted(p)) return;
  try {
    unmount(p, true);
  } catch {}
}
