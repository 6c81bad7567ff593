// `ctr init` for a container with a user namespace of its own.
//
// Bun cannot enter a user namespace (multi-threaded: unshare(2)/setns(2)
// refuse it), so the work is split:
//   1. a single-threaded holder (kernel/userns.ts, C) creates the user
//      namespace, init writes its uid_map/gid_map as host root, and the
//      holder makes the net/uts/ipc namespaces *inside* it (so container
//      root has its capabilities over them: binds port 80, sets up its
//      interfaces' sysctls, uses raw sockets — as under Docker); init joins
//      them with setns (a per-thread change Bun allows);
//   2. init, still host root, makes the mount namespace and does every mount
//      as usual — the image layers idmapped through the new user namespace
//      (container root sees its files as its own; the upper dir belongs to
//      the mapped root, so what the container writes is owned by the mapped
//      uid on the host) — and pivot_root;
//   3. instead of execve, a single-threaded child forked in C joins the user
//      namespace, switches identity, drops capabilities, loads seccomp and
//      execs the command; init stays pid 1, forwarding signals and reaping
//      (the pid namespace belongs to the host's user namespace: only init,
//      as host root, can mount its /proc — which it did in step 2).
// Exec does steps 3 only, into the namespace found with NS_GET_USERNS.
import { chownSync, realpathSync, statSync } from "node:fs";
import { resolve } from "node:path";
import * as K from "../../kernel/syscall-types.ts";
import type { CreatedUserns, IdRange, UsernsCommand } from "../../kernel/userns.ts";
import type { MountSpec } from "../../kernel/mount.ts";
import { capMask, lastCap } from "../../kernel/capabilities.ts";
import type { FinalStage } from "./protocol.ts";
import { SPEC_FD, STATUS_FD } from "./protocol.ts";
import type { UsernsSpec } from "./types.ts";

/** kernel/userns.ts as init uses it (a fake in unit tests). */
export interface UsernsKernel {
  prepare(): void;
  createUserns(uidMap: readonly IdRange[], gidMap: readonly IdRange[], nsflags: number): CreatedUserns;
  idmapInPlace(path: string, userns: number): void;
  owningUserns(path: string): number | null;
  spawnInUserns(c: UsernsCommand): number;
  reapAny(): { pid: number; exitCode: number } | null;
}

/** The host id of id `id` inside (0 → the mapped root). */
export function hostId(map: readonly IdRange[], id: number): number {
  const m = map.find((r) => id >= r.containerID && id < r.containerID + r.size);
  return m ? m.hostID + (id - m.containerID) : 65534;
}

/**
 * Step 1: the user namespace and, inside it, the namespaces in `newFlags`
 * (net/uts/ipc); joins those. Returns the user namespace's descriptor.
 */
export function enterOwnedNamespaces(u: UsernsSpec, newFlags: number, k: UsernsKernel, sys: K.Syscalls): number {
  k.prepare();
  const owned = newFlags & (K.CLONE_NEWNET | K.CLONE_NEWUTS | K.CLONE_NEWIPC);
  const made = k.createUserns(u.uidMap, u.gidMap, owned);
  for (const [type, fd] of made.owned) {
    try {
      sys.setns(fd, type);
    } finally {
      sys.close(fd);
    }
  }
  return made.userns;
}

function option(spec: MountSpec, key: string): string | undefined {
  return spec.options.find((o) => o.startsWith(`${key}=`))?.slice(key.length + 1);
}

/**
 * Step 2's part: every lower layer idmapped in place (in init's own mount
 * namespace, after / went rslave, so nothing propagates to the host), the
 * upper dir owned by the mapped root. A bind (vfs) root is idmapped whole.
 */
export function idmapRootfs(rootfs: MountSpec, u: UsernsSpec, userns: number, k: UsernsKernel): void {
  const base = rootfs.cwd ?? "/";
  if (rootfs.type !== "overlay") {
    k.idmapInPlace(realpathSync(resolve(base, rootfs.source)), userns);
    return;
  }
  const seen = new Set<string>();
  for (const l of (option(rootfs, "lowerdir") ?? "").split(":").filter(Boolean)) {
    const real = realpathSync(resolve(base, l));
    if (seen.has(real)) continue;
    seen.add(real);
    k.idmapInPlace(real, userns);
  }
  const upper = option(rootfs, "upperdir");
  const uid = hostId(u.uidMap, 0);
  const gid = hostId(u.gidMap, 0);
  if (upper && (statSync(upper).uid !== uid || statSync(upper).gid !== gid)) chownSync(upper, uid, gid);
}

const FORWARDED = ["SIGTERM", "SIGINT", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGWINCH", "SIGCONT"] as const;
/**
 * init reaps on SIGCHLD (it cannot block in waitpid: the signals it forwards
 * are handled on its event loop); the timer is the fallback for a SIGCHLD
 * that came before the handler, and what keeps the event loop alive.
 */
const REAP_FALLBACK_MS = 250;

export interface ResolvedCommand {
  path: string;
  argv: string[];
  env: string[];
  uid: number;
  gid: number;
  groups: number[];
  tty: boolean;
}

/**
 * Step 3: forks the command into the user namespace, closes the daemon's
 * pipes once it runs (that ends the start handshake, as execve would), then
 * supervises it: signals forwarded, orphans reaped, its status ours.
 */
export function spawnAndSupervise(f: FinalStage, c: ResolvedCommand, k: UsernsKernel, sys: K.Syscalls): Promise<number> {
  for (const r of f.confinement?.rlimits ?? []) sys.setrlimit(r.resource, r.soft, r.hard);
  sys.umask(0o022);
  sys.setCloexec(SPEC_FD);
  sys.setCloexec(STATUS_FD);
  const pid = k.spawnInUserns({
    userns: f.usernsFd!,
    ...c,
    // Every capability exists inside the user namespace: the list is the whole truth.
    keep: capMask(f.capabilities),
    lastCap: lastCap(),
    noNewPrivileges: f.noNewPrivileges,
    ...(f.confinement?.seccomp ? { seccomp: Buffer.from(f.confinement.seccomp, "base64") } : {}),
  });
  sys.close(f.usernsFd!);
  sys.close(SPEC_FD);
  sys.close(STATUS_FD);
  const forward = FORWARDED.map((sig) => {
    const f = () => {
      try {
        process.kill(pid, sig);
      } catch {}
    };
    process.on(sig, f);
    return [sig, f] as const;
  });
  return new Promise((done) => {
    let finished = false;
    const reap = () => {
      for (let r = k.reapAny(); r && !finished; r = k.reapAny()) {
        if (r.pid !== pid) continue;
        finished = true;
        clearInterval(timer);
        process.off("SIGCHLD", reap);
        for (const [sig, f] of forward) process.off(sig, f);
        done(r.exitCode);
      }
    };
    const timer = setInterval(reap, REAP_FALLBACK_MS);
    process.on("SIGCHLD", reap);
    reap();
  });
}

/** Exec: the user namespace of the container whose pid 1 is `pid` (it owns the container's uts, ipc or net namespace). */
export function containerUserns(pid: number, k: UsernsKernel): number {
  k.prepare();
  for (const ns of ["uts", "ipc", "net"]) {
    const fd = k.owningUserns(`/proc/${pid}/ns/${ns}`);
    if (fd !== null) return fd;
  }
  throw new Error(`the user namespace of container process ${pid} was not found`);
}
