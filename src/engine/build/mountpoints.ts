// The mountpoints a RUN container's runtime made in its rw layer: not part of
// what the RUN did, so they go before the diff becomes the step's layer.
import { readdirSync, rmdirSync, rmSync } from "node:fs";
import { join, posix } from "node:path";
import { lgetxattr } from "../../kernel/fs-ffi.ts";
import { lstatOrNull } from "../../store/tar/safe-path.ts";
import type { LayerStore } from "../../store/layers/layer-store.ts";

/** What the runtime mounts in every container; dockerd keeps these in an init layer under the rw one. */
export const RUNTIME_MOUNTPOINTS = ["/proc", "/sys", "/dev", "/etc/hostname", "/etc/hosts", "/etc/resolv.conf"];

/**
 * Mount targets the runtime created in the rw layer (a secret's file,
 * /run/secrets, a cache dir's mountpoint) are no part of what the RUN made:
 * removed before the diff, unless the RUN put something else there.
 */
export async function dropMountpoints(layers: LayerStore, containerId: string, targets: string[]): Promise<void> {
  if (!targets.length) return;
  const changes = await layers.changes(containerId);
  const added = new Set(changes.filter((c) => c.kind === "A").map((c) => c.path));
  const spec = layers.rwMount(containerId);
  const upper = spec.type === "overlay" ? spec.options.find((o) => o.startsWith("upperdir="))?.slice(9) : spec.source;
  if (!upper) return;
  const drop = new Set<string>();
  for (const t of targets) {
    for (let p = t; p !== "/"; p = posix.dirname(p)) {
      if (!added.has(p)) break;
      const others = changes.some((c) => c.path !== p && c.path.startsWith(p + "/") && !drop.has(c.path) && !targets.includes(c.path));
      if (others && p !== t) break;
      drop.add(p);
    }
  }
  for (const p of [...drop].sort((a, b) => b.length - a.length)) rmSync(join(upper, p), { recursive: true, force: true });
  // A directory overlayfs copied up only to hold a mountpoint is no change either.
  if (spec.type !== "overlay") return;
  const lowerOpt = spec.options.find((o) => o.startsWith("lowerdir="))?.slice(9) ?? "";
  const lowers = lowerOpt.split(":").filter(Boolean).map((l) => (spec.cwd ? join(spec.cwd, l) : l));
  const parents = new Set([...drop].map((p) => posix.dirname(p)).filter((p) => p !== "/" && !drop.has(p)));
  for (const p of [...parents].sort((a, b) => b.length - a.length)) {
    const up = join(upper, p);
    const st = lstatOrNull(up);
    if (!st?.isDirectory() || readdirSync(up).length || lgetxattrOrNull(up)) continue;
    const low = lowers.map((l) => lstatOrNull(join(l, p))).find((x) => x);
    if (low?.isDirectory() && low.mode === st.mode && low.uid === st.uid && low.gid === st.gid) rmdirSync(up);
  }
}

/** The overlay opaque marker of a dir (an opaque dir hides the lower one: never drop it). */
function lgetxattrOrNull(path: string): boolean {
  return lgetxattr(path, "trusted.overlay.opaque") !== null;
}

