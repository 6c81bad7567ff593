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
  /** Creates the volume if missing (with `create`'s options), records the container's use; returns its mountpoint. */
  ensure(name: string, anonymous: boolean, containerId: string, create?: VolumeOptions): string;
}

export interface VolumeOptions {
  Labels?: Record<string, string>;
  DriverOpts?: Record<string, string>;
}

export interface ResolvedMounts {
  mounts: ContainerMount[];
  points: MountPoint[];
  /** The volume points to fill from the image (not `nocopy`). */
  copyUp: MountPoint[];
}

/** HostConfig.Mounts as the API sends it (types.ts names the common part). */
type ApiMount = NonNullable<Container["hostConfig"]["Mounts"]>[number] & {
  VolumeOptions?: { NoCopy?: boolean; Labels?: Record<string, string>; DriverConfig?: { Name?: string; Options?: Record<string, string> } };
  BindOptions?: { Propagation?: string; CreateMountpoint?: boolean };
};

function checkTarget(dst: string, spec: string): string {
  if (!dst) throw new InvalidParameterError(`invalid mount config: field Target must not be empty`);
  if (!isAbsolute(dst)) throw new InvalidParameterError(`invalid mount config: mount path must be absolute: ${spec}`);
  const n = normalize(dst).replace(/(.)\/$/, "$1");
  if (n === "/") throw new InvalidParameterError(`invalid specification: destination can't be '/' in '${spec}'`);
  return n;
}

const MODES = ["ro", "rw", "z", "Z", "private", "rprivate", "slave", "rslave", "shared", "rshared", "nocopy"];

/** Parses `-v` specs: `name:/dst[:ro]`, `/host:/dst[:ro|rw][,z]`, `/dst` (anonymous volume). */
function parseBind(spec: string): { source: string; target: string; ro: boolean; nocopy: boolean; mode: string } {
  const parts = spec.split(":");
  if (parts.length > 3 || !parts[0] || (parts.length > 1 && !parts[1])) throw new InvalidParameterError(`invalid volume specification: '${spec}'`);
  if (parts.length === 1) return { source: "", target: parts[0]!, ro: false, nocopy: false, mode: "" };
  const [source, target, mode = ""] = parts as [string, string, string?];
  const modes = mode.split(",").filter(Boolean);
  for (const m of modes) {
    if (!MODES.includes(m)) throw new InvalidParameterError(`invalid mode: ${m}`);
  }
  return { source, target, ro: modes.includes("ro"), nocopy: modes.includes("nocopy"), mode };
}

/**
 * Turns HostConfig.Binds/Mounts/Tmpfs and the image's VOLUMEs into mounts,
 * creating named and anonymous volumes as Docker does at create time.
 */
export function resolveMounts(c: Container, volumes: VolumeProvider, from: (ref: string) => MountPoint[]): ResolvedMounts {
  const byDest = new Map<string, { m: ContainerMount; p: MountPoint; copy: boolean }>();
  const add = (m: ContainerMount, p: MountPoint, copy = false) => byDest.set(m.destination, { m, p, copy });
  // What the user asked for twice is an error; what they ask over an image VOLUME or --volumes-from wins.
  const userDests = new Set<string>();
  const userTarget = (dst: string, spec: string) => {
    const d = checkTarget(dst, spec);
    if (userDests.has(d)) throw new InvalidParameterError(`Duplicate mount point: ${d}`);
    userDests.add(d);
    return d;
  };
  const volume = (name: string, dst: string, o: { ro: boolean; anonymous: boolean; nocopy?: boolean; mode?: string; create?: VolumeOptions }) => {
    const src = volumes.ensure(name, o.anonymous, c.id, o.create);
    const mode = o.mode ?? (o.ro ? "ro" : "z");
    add({ destination: dst, type: "bind", source: src, options: ["rbind", o.ro ? "ro" : "rw"] }, { Type: "volume", Name: name, Source: src, Destination: dst, Driver: "local", Mode: mode, RW: !o.ro, Propagation: "" }, !o.nocopy);
  };
  // `-v /host:/x` creates a missing host directory (as docker does); `--mount type=bind` refuses it.
  const bind = (src: string, dst: string, ro: boolean, o: { create?: boolean; mode?: string; propagation?: string } = {}) => {
    if (!existsSync(src)) {
      if (!o.create) throw new InvalidParameterError(`invalid mount config for type "bind": bind source path does not exist: ${src}`);
      mkdirSync(src, { recursive: true, mode: 0o755 });
    }
    add({ destination: dst, type: "bind", source: src, options: ["rbind", ro ? "ro" : "rw"] }, { Type: "bind", Source: src, Destination: dst, Mode: o.mode ?? (ro ? "ro" : ""), RW: !ro, Propagation: o.propagation || "rprivate" });
  };
  for (const ref of c.hostConfig.VolumesFrom ?? []) {
    const [name, mode] = ref.split(":");
    if (mode && mode !== "ro" && mode !== "rw") throw new InvalidParameterError(`invalid mode: ${mode}`);
    for (const p of from(name!)) {
      const ro = mode === "ro" || (!mode && !p.RW);
      if (p.Type === "volume" && p.Name) volume(p.Name, p.Destination, { ro, anonymous: false, nocopy: true });
      else if (p.Type === "bind") bind(p.Source, p.Destination, ro);
    }
  }
  for (const dst of Object.keys(c.config.Volumes ?? {})) {
    const d = checkTarget(dst, dst);
    if (!byDest.has(d) && !isUserTarget(c, d)) volume(randomName(), d, { ro: false, anonymous: true, mode: "" });
  }
  for (const spec of c.hostConfig.Binds ?? []) {
    const b = parseBind(spec);
    if (!isAbsolute(b.target)) {
      const type = b.source && isAbsolute(b.source) ? "bind" : "volume";
      throw new InvalidParameterError(`invalid volume specification: '${spec}': invalid mount config for type "${type}": invalid mount path: '${b.target}' mount path must be absolute`);
    }
    const dst = userTarget(b.target, spec);
    if (!b.source) volume(randomName(), dst, { ro: false, anonymous: true, mode: "" });
    else if (isAbsolute(b.source)) bind(b.source, dst, b.ro, { create: true, mode: b.mode });
    else volume(b.source, dst, { ro: b.ro, anonymous: false, nocopy: b.nocopy, mode: b.mode || "z" });
  }
  for (const m of (c.hostConfig.Mounts ?? []) as ApiMount[]) {
    const dst = userTarget(m.Target, m.Target);
    if (m.Type === "bind") {
      if (!m.Source) throw new InvalidParameterError("invalid mount config for type \"bind\": field Source must not be empty");
      // API 1.44's CreateMountpoint: kubelet asks for a missing host path to be made (a directory, as dockerd).
      bind(m.Source, dst, !!m.ReadOnly, { mode: "", propagation: m.BindOptions?.Propagation, create: !!m.BindOptions?.CreateMountpoint });
    } else if (m.Type === "volume") {
      const vo = m.VolumeOptions;
      const driver = vo?.DriverConfig?.Name;
      if (driver && driver !== "local") throw new InvalidParameterError(`plugin "${driver}" not found`);
      const create = { Labels: vo?.Labels, DriverOpts: vo?.DriverConfig?.Options };
      volume(m.Source || randomName(), dst, { ro: !!m.ReadOnly, anonymous: !m.Source, nocopy: !!vo?.NoCopy, mode: "", create });
    } else if (m.Type === "tmpfs") {
      // The driver reads tmpfs options from Mode (as for --tmpfs), so size and mode go there.
      const opts = ["noexec", "nosuid", "nodev"];
      if (m.TmpfsOptions?.SizeBytes) opts.push(`size=${m.TmpfsOptions.SizeBytes}`);
      if (m.TmpfsOptions?.Mode) opts.push(`mode=${m.TmpfsOptions.Mode.toString(8)}`);
      add({ destination: dst, type: "tmpfs", source: "tmpfs", options: [...opts, ...(m.ReadOnly ? ["ro"] : [])] }, { Type: "tmpfs", Source: "", Destination: dst, Mode: opts.join(","), RW: !m.ReadOnly, Propagation: "" });
    } else throw new InvalidParameterError(`invalid mount config: mount type unknown: "${m.Type}"`);
  }
  for (const [path, opts] of Object.entries(c.hostConfig.Tmpfs ?? {})) {
    const dst = userTarget(path, path);
    const o = tmpfsOptions(opts);
    const mode = o.filter((x) => x !== "nosuid" && x !== "nodev").join(",");
    add({ destination: dst, type: "tmpfs", source: "tmpfs", options: o }, { Type: "tmpfs", Source: "", Destination: dst, Mode: mode, RW: !o.includes("ro"), Propagation: "" });
  }
  const list = [...byDest.values()].sort((a, b) => a.m.destination.split("/").length - b.m.destination.split("/").length);
  return { mounts: list.map((x) => x.m), points: list.map((x) => x.p), copyUp: list.filter((x) => x.copy && x.p.Type === "volume").map((x) => x.p) };
}

/** Docker's --tmpfs defaults (noexec,nosuid,nodev); `exec`, `suid`, `dev` lift them. */
function tmpfsOptions(opts: string): string[] {
  const o = new Set(["noexec", "nosuid", "nodev"]);
  const rest: string[] = [];
  for (const x of opts.split(",").filter(Boolean)) {
    if (x === "exec" || x === "suid" || x === "dev") o.delete(`no${x}`);
    else if (x !== "rw" && !o.has(x)) rest.push(x);
  }
  return [...o, ...rest];
}

/** An image VOLUME the user mounts something else on gets no anonymous volume. */
function isUserTarget(c: Container, dst: string): boolean {
  const binds = (c.hostConfig.Binds ?? []).map((b) => b.split(":")).map((p) => (p.length === 1 ? p[0] : p[1]));
  const targets = [...binds, ...(c.hostConfig.Mounts ?? []).map((m) => m.Target), ...Object.keys(c.hostConfig.Tmpfs ?? {})];
  return targets.some((t) => !!t && normalize(t).replace(/(.)\/$/, "$1") === dst);
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
