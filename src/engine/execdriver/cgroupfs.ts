// /sys/fs/cgroup inside the container, read-only, showing only the
// container's own cgroup (runc's mountCgroupV1/mountCgroupV2), so runtimes
// that size themselves from cgroup files (the JVM, Go's GOMAXPROCS, …) see
// their limits: on v2 a cgroup2 mount, rooted at the container's cgroup by
// the cgroup namespace init made after joining it; on v1 a tmpfs holding a
// bind of the container's directory in each hierarchy. Writable only for a
// privileged container, as Docker.
import { mkdirSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import * as K from "../../kernel/syscall-types.ts";
import type { Syscalls } from "../../kernel/syscall-types.ts";
import type { CgroupView } from "../../kernel/cgroups/types.ts";

const NSD = K.MS_NOSUID | K.MS_NODEV | K.MS_NOEXEC;

/** `target` is <rootfs>/sys/fs/cgroup as seen before pivot_root. */
export function mountCgroupfs(target: string, view: CgroupView | undefined, privileged: boolean, sys: Syscalls): void {
  if (!view) return;
  const ro = privileged ? 0 : K.MS_RDONLY;
  mkdirSync(target, { recursive: true });
  if (view.version === 2) {
    sys.mount("cgroup2", target, "cgroup2", NSD | ro, null);
    return;
  }
  sys.mount("tmpfs", target, "tmpfs", NSD, "mode=755,size=64k");
  for (const m of view.mounts) {
    const dir = join(target, m.name);
    mkdirSync(dir, { recursive: true });
    sys.mount(m.source, dir, null, K.MS_BIND, null);
    sys.mount(null, dir, null, K.MS_REMOUNT | K.MS_BIND | NSD | ro, null);
  }
  for (const l of view.links) symlinkSync(l.target, join(target, l.name));
  if (ro) sys.mount(null, target, null, K.MS_REMOUNT | NSD | K.MS_RDONLY, "mode=755,size=64k");
}
