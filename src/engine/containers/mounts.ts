import { existsSync, mkdirSync, statSync } from "node:fs";
import { isAbsolute, normalize } from "node:path";
import { InvalidParameterError } from "../errors.ts";
import type { Container } from "./types.ts";

/** A mount the exec driver performs inside the container (targets resolved under the root, no symlinks out). */
export interface ContainerMount {
  destination: string;
  type: "bind" | "tmpfs";
  source: string;
  options: string[];
}

/** Docker's inspect `Mounts` entry. */
export interface MountPoint {
  Type: "bind" | "volume" | "tmpfs";
  Name?: string;
  Source: string;
  Destination: string;
  Driver?: string;
  Mode: string;
  RW: boolean;
  Propagation: string;
}

export interface VolumeProvider {
  /** Creates the volume if missing; returns its mountpoint. */
  ensure(name: string, anonymous: boolean, containerId: string): string;
}

export interface ResolvedMounts {
  mounts: ContainerMount[];
  points: MountPoint[];
}

function checkTarget(dst: string, spec: string): string {
  if (!isAbsolute(dst)) throw new InvalidParameterError(`invalid mount config: mount path must be absolute: ${spec}`);
  const n = normalize(dst);
  if (n === "/") throw new InvalidParameterError(`invalid specification: destination can't be '/' in '${spec}'`);
  return n;
}

/** Parses `-v` specs: `name:/dst[:ro]`, `/host:/dst[:ro|rw][,z]`, `/dst` (anonymous volume). */
function parseBind(spec: string): { source: string; target: string; ro: boolean } {
  const parts = spec.split(":");
  if (parts.length === 1) return { source: "", target: parts[0]!, ro: false };
  const [source, target, mode = ""] = parts as [string, string, string?];
  const modes = mode.split(",").filter(Boolean);
  for (const m of modes) {
    if (!["ro", "rw", "z", "Z", "private", "rprivate", "slave", "rslave", "shared", "rshared", "nocopy"].includes(m)) {
      throw new InvalidParameterError(`invalid mode: ${m}`);
    }
  }
  return { source, target, ro: modes.includes("ro") };
}

/**
 * Turns HostConfig.Binds/Mounts/Tmpfs and the image's VOLUMEs into mounts,
 * creating named and anonymous volumes as Docker does at create time.
 */
export function resolveMounts(c: Container, volumes: VolumeProvider, from: (ref: string) => MountPoint[]): ResolvedMounts {
  const byDest = new Map<string, { m: ContainerMount; p: MountPoint }>();
  const add = (m: ContainerMount, p: MountPoint) => byDest.set(m.destination, { m, p });
  const volume = (name: string, dst: string, ro: boolean, anonymous: boolean) => {
    const src = volumes.ensure(name, anonymous, c.id);
    add({ destination: dst, type: "bind", source: src, options: ["rbind", ro ? "ro" : "rw"] }, { Type: "volume", Name: name, Source: src, Destination: dst, Driver: "local", Mode: ro ? "ro" : "z", RW: !ro, Propagation: "" });
  };
  // `-v /host:/x` creates a missing host directory (as docker does); `--mount type=bind` refuses it.
  const bind = (src: string, dst: string, ro: boolean, create = false) => {
    if (!existsSync(src)) {
      if (!create) throw new InvalidParameterError(`invalid mount config for type "bind": bind source path does not exist: ${src}`);
      mkdirSync(src, { recursive: true, mode: 0o755 });
    }
    add({ destination: dst, type: "bind", source: src, options: ["rbind", ro ? "ro" : "rw"] }, { Type: "bind", Source: src, Destination: dst, Mode: ro ? "ro" : "", RW: !ro, Propagation: "rprivate" });
  };
  for (const ref of c.hostConfig.VolumesFrom ?? []) {
    const [name, mode] = ref.split(":");
    for (const p of from(name!)) {
      const ro = mode === "ro" || (!mode && !p.RW);
      if (p.Type === "volume" && p.Name) volume(p.Name, p.Destination, ro, false);
      else if (p.Type === "bind") bind(p.Source, p.Destination, ro);
    }
  }
  for (const dst of Object.keys(c.config.Volumes ?? {})) {
    const d = checkTarget(dst, dst);
    if (!byDest.has(d)) volume(randomName(), d, false, true);
  }
  for (const spec of c.hostConfig.Binds ?? []) {
    const b = parseBind(spec);
    const dst = checkTarget(b.target, spec);
    if (!b.source) volume(randomName(), dst, false, true);
    else if (isAbsolute(b.source)) bind(b.source, dst, b.ro, true);
    else volume(b.source, dst, b.ro, false);
  }
  for (const m of c.hostConfig.Mounts ?? []) {
    const dst = checkTarget(m.Target, m.Target);
    if (m.Type === "bind") {
      if (!m.Source) throw new InvalidParameterError("invalid mount config for type \"bind\": field Source must not be empty");
      bind(m.Source, dst, !!m.ReadOnly);
    } else if (m.Type === "volume") volume(m.Source || randomName(), dst, !!m.ReadOnly, !m.Source);
    else if (m.Type === "tmpfs") {
      const opts = ["nosuid", "nodev"];
      if (m.TmpfsOptions?.SizeBytes) opts.push(`size=${m.TmpfsOptions.SizeBytes}`);
      if (m.TmpfsOptions?.Mode) opts.push(`mode=${m.TmpfsOptions.Mode.toString(8)}`);
      if (m.ReadOnly) opts.push("ro");
      add({ destination: dst, type: "tmpfs", source: "tmpfs", options: opts }, { Type: "tmpfs", Source: "", Destination: dst, Mode: "", RW: !m.ReadOnly, Propagation: "" });
    } else throw new InvalidParameterError(`invalid mount config: mount type unknown: "${m.Type}"`);
  }
  for (const [path, opts] of Object.entries(c.hostConfig.Tmpfs ?? {})) {
    const dst = checkTarget(path, path);
    const o = ["nosuid", "nodev", "noexec", ...(opts ? opts.split(",") : [])];
    add({ destination: dst, type: "tmpfs", source: "tmpfs", options: o }, { Type: "tmpfs", Source: "", Destination: dst, Mode: opts, RW: !o.includes("ro"), Propagation: "" });
  }
  const list = [...byDest.values()].sort((a, b) => a.m.destination.split("/").length - b.m.destination.split("/").length);
  return { mounts: list.map((x) => x.m), points: list.map((x) => x.p) };
}

function randomName(): string {
  return crypto.getRandomValues(new Uint8Array(32)).reduce((s, b) => s + b.toString(16).padStart(2, "0"), "");
}

export function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}
