// Root filesystem setup inside the container's new mount namespace, in
// `ctr init` (runc's libcontainer/rootfs_linux.go order): private propagation,
// rootfs, /proc /dev /sys, user mounts, pivot_root, then masked and read-only
// paths, then the read-only root. Nothing here can leak onto the host: every
// mount happens in a namespace that dies with the container.
import { closeSync, constants, existsSync, lstatSync, mkdirSync, openSync, readdirSync, readlinkSync, realpathSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join, posix } from "node:path";
import * as K from "../../kernel/syscall-types.ts";
import type { Syscalls } from "../../kernel/syscall-types.ts";
import type { ContainerMount, ContainerSpec } from "./types.ts";
import { mountFlags } from "../../kernel/mount.ts";
import { mountCgroupfs } from "./cgroupfs.ts";
import { hostId } from "./userns-stage.ts";

/** Docker's defaults (moby oci/defaults.go DefaultLinuxSpec). */
export const MASKED_PATHS = [
  "/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
  "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap",
];
export const READONLY_PATHS = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"];

/** char devices every container gets (OCI runtime-spec config-linux.md "Default Devices"). */
export const DEFAULT_DEVICES: { name: string; major: number; minor: number }[] = [
  { name: "null", major: 1, minor: 3 },
  { name: "zero", major: 1, minor: 5 },
  { name: "full", major: 1, minor: 7 },
  { name: "random", major: 1, minor: 8 },
  { name: "urandom", major: 1, minor: 9 },
  { name: "tty", major: 5, minor: 0 },
];

/** After pivot_root, file checks go through this (identity in real life; tests map into a temp dir). */
export type PathMap = (absolute: string) => string;

/**
 * Resolves `path` inside `root` the way the container will see it: symlinks
 * are followed, but `..` and absolute links never climb out of root (the
 * classic mount-target escape, cf. runc's securejoin).
 */
export function secureJoin(root: string, path: string): string {
  const parts = posix.normalize("/" + path).split("/").filter(Boolean);
  const out: string[] = [];
  let hops = 0;
  while (parts.length) {
    const part = parts.shift()!;
    if (part === "..") {
      out.pop();
      continue;
    }
    const full = join(root, ...out, part);
    let st;
    try {
      st = lstatSync(full);
    } catch {
      out.push(part);
      continue;
    }
    if (st.isSymbolicLink()) {
      if (++hops > 40) throw new Error(`too many levels of symbolic links resolving ${path}`);
      const target = readlinkSync(full);
      if (target.startsWith("/")) out.length = 0;
      parts.unshift(...target.split("/").filter(Boolean));
      continue;
    }
    out.push(part);
  }
  return join(root, ...out);
}

/** A missing mount target is made 0755, as runc makes it (a build's RUN commits it into the layer, as dockerd's does). */
function ensureTarget(path: string, dir: boolean): void {
  if (existsSync(path)) return;
  mkdirSync(dir ? path : dirname(path), { recursive: true, mode: 0o755 });
  if (!dir) writeFileSync(path, "", { mode: 0o755 });
}

/** /dev is a fresh tmpfs in a real container; tolerate what is there anyway. */
function link(target: string, path: string): void {
  try {
    lstatSync(path);
  } catch {
    symlinkSync(target, path);
  }
}

const NSD = K.MS_NOSUID | K.MS_NODEV | K.MS_NOEXEC;

/** Everything up to and including pivot_root; afterwards "/" is the container's root. */
export function setupRoot(spec: ContainerSpec, sys: Syscalls, beforeRootfs?: () => void): void {
  mountSystem(spec, sys, beforeRootfs);
  finishRoot(spec, sys);
}

/**
 * The part of the root that needs nothing but the spec and the container's
 * namespaces and cgroup: rootfs, /proc, /dev, /sys. `ctr init` runs it while
 * the daemon plugs the network and finishes the container's files.
 */
export function mountSystem(spec: ContainerSpec, sys: Syscalls, beforeRootfs?: () => void): void {
  // MS_SLAVE|MS_REC first: host mounts still propagate in, ours never out
  // (runc's default rootfsPropagation "rslave" — Docker's too).
  sys.mount(null, "/", null, K.MS_REC | K.MS_SLAVE, null);
  // Mounts that must not reach the host either (a user namespace's idmapped layers).
  beforeRootfs?.();
  const root = spec.rootfsPath;
  mkdirSync(root, { recursive: true });
  mountRootfs(spec.rootfs, root, sys);
  // pivot_root wants new_root to be a mount point whose parent is not shared.
  sys.mount(root, root, null, K.MS_BIND | K.MS_REC, null);
  sys.mount(null, root, null, K.MS_REC | K.MS_PRIVATE, null);
  const at = (p: string) => secureJoin(root, p);
  ensureTarget(at("/proc"), true);
  sys.mount("proc", at("/proc"), "proc", NSD, null);
  setupDev(root, spec, sys);
  setupSys(at("/sys"), spec, sys);
}

/** The user's mounts (the container's hostname, hosts and resolv.conf among them), then pivot_root. */
export function finishRoot(spec: ContainerSpec, sys: Syscalls): void {
  const root = spec.rootfsPath;
  // Targets are checked against /proc/self/fd links, which name real paths.
  const realRoot = realpathSync(root);
  for (const m of spec.mounts) userMount(m, secureJoin(realRoot, m.destination), sys);

  // runc's trick: pivot_root(".", ".") stacks the old root on top of the new
  // one; detaching "." then removes it without needing a put_old directory.
  sys.chdir(root);
  sys.pivotRoot(".", ".");
  sys.umount2(".", K.MNT_DETACH);
  sys.chdir("/");
}

/** overlayfs before Linux 5.10 knows no "volatile" (EINVAL): such a layer is then synced at the exit, as before. */
function mountRootfs(rootfs: ContainerSpec["rootfs"], root: string, sys: Syscalls): void {
  try {
    sys.mountSpec(rootfs, root);
  } catch (e) {
    if ((e as { errno?: number }).errno !== 22 || !rootfs.options.includes("volatile")) throw e;
    sys.mountSpec({ ...rootfs, options: rootfs.options.filter((o) => o !== "volatile") }, root);
  }
}

/** tmpfs options that give the mount to a user namespace's root ("" without one). */
function usernsOwner(spec: ContainerSpec): string {
  return spec.userns ? `,uid=${hostId(spec.userns.uidMap, 0)},gid=${hostId(spec.userns.gidMap, 0)}` : "";
}

function setupDev(root: string, spec: ContainerSpec, sys: Syscalls): void {
  const dev = secureJoin(root, "/dev");
  ensureTarget(dev, true);
  // In a user namespace of its own, /dev, /dev/shm and the tty group belong to its ids (runc mounts them from inside).
  const own = usernsOwner(spec);
  const ttyGid = spec.userns ? hostId(spec.userns.gidMap, 5) : 5;
  sys.mount("tmpfs", dev, "tmpfs", K.MS_NOSUID, `mode=755,size=65536k${own}`);
  const devices = spec.privileged ? hostDevices() : DEFAULT_DEVICES;
  for (const d of devices) {
    const t = join(dev, d.name);
    try {
      sys.mknod(t, K.S_IFCHR, 0o666, d.major, d.minor);
    } catch {
      // No CAP_MKNOD (nested/rootless): bind the host's node instead, as runc does in a userns.
      writeFileSync(t, "");
      sys.mount(`/dev/${d.name}`, t, null, K.MS_BIND, null);
    }
  }
  mkdirSync(join(dev, "pts"), { recursive: true });
  // newinstance: the container gets its own pty numbering (its first tty is /dev/pts/0).
  sys.mount("devpts", join(dev, "pts"), "devpts", K.MS_NOSUID | K.MS_NOEXEC, `newinstance,ptmxmode=0666,mode=0620,gid=${ttyGid}`);
  link("pts/ptmx", join(dev, "ptmx"));
  setupShm(join(dev, "shm"), spec, sys);
  mkdirSync(join(dev, "mqueue"), { recursive: true });
  try {
    sys.mount("mqueue", join(dev, "mqueue"), "mqueue", NSD, null);
  } catch {
    // mqueue belongs to the ipc namespace; a host ipc namespace may refuse a new instance.
  }
  for (const [n, t] of [["fd", "/proc/self/fd"], ["stdin", "/proc/self/fd/0"], ["stdout", "/proc/self/fd/1"], ["stderr", "/proc/self/fd/2"], ["core", "/proc/kcore"]] as const) {
    link(t, join(dev, n));
  }
}

/** /dev/shm as IpcMode says (containers/ipc.ts): its own tmpfs, the host's or a shareable donor's, or none. */
function setupShm(target: string, spec: ContainerSpec, sys: Syscalls): void {
  const shm = spec.shm ?? { kind: "tmpfs", size: 64 * 1024 * 1024 };
  if (shm.kind === "none") return;
  mkdirSync(target, { recursive: true });
  if (shm.kind === "tmpfs") sys.mount("shm", target, "tmpfs", NSD, `mode=1777,size=${shm.size}${usernsOwner(spec)}`);
  else sys.mount(shm.source, target, null, K.MS_BIND | K.MS_REC, null);
}

/** Every char device directly under the host's /dev (--privileged). */
function hostDevices(): { name: string; major: number; minor: number }[] {
  const out: { name: string; major: number; minor: number }[] = [];
  for (const name of readdirSync("/dev")) {
    try {
      const st = lstatSync(join("/dev", name));
      if (!st.isCharacterDevice() || name === "console" || name === "ptmx") continue;
      const r = st.rdev;
      // glibc's dev_t layout (<sys/sysmacros.h>): major bits 8-19 and 32-43, minor bits 0-7 and 20-31.
      out.push({ name, major: (Math.floor(r / 256) & 0xfff) | (Math.floor(r / 2 ** 32) & ~0xfff), minor: (r & 0xff) | (Math.floor(r / 4096) & 0xfff00) });
    } catch {}
  }
  return out;
}

function setupSys(target: string, spec: ContainerSpec, sys: Syscalls): void {
  ensureTarget(target, true);
  const ro = spec.privileged ? 0 : K.MS_RDONLY;
  try {
    sys.mount("sysfs", target, "sysfs", NSD | ro, null);
  } catch {
    // A new sysfs needs a network namespace we own; with the host's (or
    // another container's) netns, bind the host /sys read-only as runc does.
    sys.mount("/sys", target, null, K.MS_BIND | K.MS_REC, null);
    if (ro) sys.mount(null, target, null, K.MS_REMOUNT | K.MS_BIND | K.MS_RDONLY | K.MS_REC, null);
  }
  mountCgroupfs(join(target, "fs/cgroup"), spec.cgroupView, spec.privileged, sys);
}

function userMount(m: ContainerMount, target: string, sys: Syscalls): void {
  const { flags, data } = mountFlags(m.options);
  const ro = flags & K.MS_RDONLY;
  const extra = flags & (K.MS_NOSUID | K.MS_NODEV | K.MS_NOEXEC);
  if (m.type === "tmpfs") {
    ensureTarget(target, true);
    viaPinned(target, (t) => sys.mount("tmpfs", t, "tmpfs", flags & ~(K.MS_BIND | K.MS_REC), data || null));
    return;
  }
  ensureTarget(target, statSync(m.source).isDirectory());
  viaPinned(target, (t) => sys.mount(m.source, t, null, K.MS_BIND | (m.options.includes("bind") ? 0 : K.MS_REC), null));
  // A bind ignores flags on the first call; read-only and friends need a remount (mount(2) "MS_BIND").
  // Pinned afresh: the path now crosses into the new mount, the one to remount.
  if (ro || extra) viaPinned(target, (t) => sys.mount(null, t, null, K.MS_REMOUNT | K.MS_BIND | ro | extra, null));
}

const O_PATH = 0o10000000;
const O_CLOEXEC = 0o2000000;

/**
 * Mounts onto `target` through an O_PATH descriptor (runc's fix for
 * CVE-2021-30465): secureJoin resolved it inside the root, but a volume
 * shared with a running container could have a component swapped for a
 * symlink before mount(2) walks the path again. The descriptor pins the
 * inode, its /proc/self/fd link proves it is still the path resolved, and
 * mount(2) on /proc/self/fd/N lands on exactly that inode.
 */
export function viaPinned(target: string, mount: (path: string) => void): void {
  const fd = openSync(target, O_PATH | O_CLOEXEC | constants.O_NOFOLLOW);
  try {
    const proc = `/proc/self/fd/${fd}`;
    const real = readlinkSync(proc);
    if (real !== target || lstatSync(real).isSymbolicLink()) {
      throw new Error(`mount target ${target} changed while being mounted (now ${real}): refusing to follow it`);
    }
    mount(proc);
  } finally {
    closeSync(fd);
  }
}

/** After pivot_root (runc applies these in standard_init, once "/" is the container's). */
export function restrictPaths(spec: ContainerSpec, sys: Syscalls, path: PathMap): void {
  if (spec.privileged) return;
  for (const p of spec.maskedPaths ?? MASKED_PATHS) {
    let st;
    try {
      st = statSync(path(p));
    } catch {
      continue;
    }
    // Directories get an empty read-only tmpfs, files /dev/null (runc's maskPath).
    if (st.isDirectory()) sys.mount("tmpfs", p, "tmpfs", K.MS_RDONLY, null);
    else sys.mount("/dev/null", p, null, K.MS_BIND, null);
  }
  for (const p of spec.readonlyPaths ?? READONLY_PATHS) {
    if (!existsSync(path(p))) continue;
    sys.mount(p, p, null, K.MS_BIND | K.MS_REC, null);
    sys.mount(null, p, null, K.MS_REMOUNT | K.MS_BIND | K.MS_RDONLY | K.MS_REC | NSD, null);
  }
  if (spec.readonlyRootfs) sys.mount(null, "/", null, K.MS_REMOUNT | K.MS_BIND | K.MS_RDONLY, null);
}
