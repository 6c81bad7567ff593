// mount(2)/umount2(2) for the mount specs the graph drivers return as data
// (containerd's core/mount split: drivers describe, only src/kernel mounts).
import { mkdtempSync, readFileSync, rmdirSync } from "node:fs";
import { join } from "node:path";
import { check, cptr, cstr, libc } from "./libc.ts";

export interface MountSpec {
  type: string;
  source: string;
  target?: string;
  options: string[];
  /** chdir here first: overlay lowerdirs given relative to it (Docker's long-chain trick). */
  cwd?: string;
}

// <linux/mount.h>
const FLAGS: Record<string, number> = {
  ro: 0x1,
  nosuid: 0x2,
  nodev: 0x4,
  noexec: 0x8,
  remount: 0x20,
  bind: 0x1000,
  rbind: 0x1000 | 0x4000,
  private: 0x40000,
  rprivate: 0x40000 | 0x4000,
  slave: 0x80000,
  rslave: 0x80000 | 0x4000,
};
const IGNORED = new Set(["rw", "defaults"]);
const MNT_DETACH = 2;

/** Splits options into MS_* flags and the fs-specific data string. */
export function mountFlags(options: readonly string[]): { flags: number; data: string } {
  let flags = 0;
  const data: string[] = [];
  for (const o of options) {
    const f = FLAGS[o];
    if (f !== undefined) flags |= f;
    else if (!IGNORED.has(o)) data.push(o);
  }
  return { flags, data: data.join(",") };
}

export function mountSpec(spec: MountSpec, target: string): void {
  const { flags, data } = mountFlags(spec.options);
  const isBind = (flags & FLAGS.bind!) !== 0;
  const src = cstr(spec.source);
  const tgt = cstr(target);
  const type = cstr(isBind ? "none" : spec.type);
  const d = data ? cstr(data) : null;
  const prev = spec.cwd ? process.cwd() : null;
  // The cwd is process-wide: only one-shot callers (tests, `ctr init`) use relative lowerdirs.
  if (spec.cwd) process.chdir(spec.cwd);
  try {
    check("mount", libc.symbols.mount(src, tgt, type, BigInt(flags), cptr(d)), `${spec.type} on ${target}`);
  } finally {
    if (prev) process.chdir(prev);
  }
}

export function unmount(target: string, detach = false): void {
  const t = cstr(target);
  check("umount2", libc.symbols.umount2(t, detach ? MNT_DETACH : 0), target);
}

/**
 * Detaches every mount below `dir` (deepest first). At daemon start: a crash
 * in the middle of a cp, export or volume copy-up leaves its temporary mount.
 */
export function unmountAllUnder(dir: string): string[] {
  const prefix = dir.endsWith("/") ? dir : `${dir}/`;
  const targets = readFileSync("/proc/self/mounts", "utf8")
    .split("\n")
    .map((l) => (l.split(" ")[1] ?? "").replace(/\\040/g, " "))
    .filter((t) => t.startsWith(prefix))
    .sort((a, b) => b.length - a.length);
  for (const t of targets) {
    try {
      unmount(t, true);
    } catch {
      // already gone
    }
  }
  return targets;
}

/** The same files without a writable upper: overlay's lower layers may hold whiteouts. */
export function readOnlyView(spec: MountSpec): MountSpec {
  if (spec.type !== "overlay") return spec;
  const opt = (k: string) => spec.options.find((o) => o.startsWith(`${k}=`))?.slice(k.length + 1);
  const upper = opt("upperdir");
  const lower = opt("lowerdir");
  const lowers = [upper, lower].filter(Boolean).join(":");
  return { ...spec, options: [`lowerdir=${lowers}`, "ro"] };
}

/** Mounts `spec` on a new temp dir under `parent` (the daemon's cp, export and copy-up views); release detaches it. */
export function mountTemp(spec: MountSpec, parent: string, prefix: string): { dir: string; release: () => void } {
  const dir = mkdtempSync(join(parent, prefix));
  try {
    mountSpec(spec, dir);
  } catch (e) {
    rmdirSync(dir);
    throw e;
  }
  return {
    dir,
    release: () => {
      unmount(dir, true);
      rmdirSync(dir);
    },
  };
}
