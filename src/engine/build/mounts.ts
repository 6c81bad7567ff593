// RUN --mount=type=bind|cache|tmpfs|secret (BuildKit's syntax) as container
// mounts for the length of one RUN. Cache directories live under
// <root>/buildcache and persist across builds; secrets are written to a 0400
// file in the build's private dir, bind-mounted read-only, and named in the
// cache key by id only: their bytes never reach a layer, history or a key.
import { chmodSync, chownSync, cpSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { join, posix } from "node:path";
import { InvalidParameterError } from "../errors.ts";
import { secureJoin } from "../execdriver/rootfs.ts";
import { sha256 } from "./hash.ts";
import type { BuildCacheStore } from "../../store/build-cache.ts";

export interface MountRequest {
  type: "bind" | "cache" | "tmpfs" | "secret";
  target: string;
  source: string;
  from: string | null;
  readonly: boolean;
  id: string;
  mode: number | null;
  uid: number;
  gid: number;
  required: boolean;
  size: number | null;
}

export type ContainerMountSpec = { Type: string; Source?: string; Target: string; ReadOnly?: boolean; TmpfsOptions?: { SizeBytes?: number } };

/** Parses one --mount value. */
export function parseMount(spec: string, workdir: string): MountRequest {
  const kv = new Map<string, string>();
  for (const part of spec.split(",")) {
    const eq = part.indexOf("=");
    kv.set((eq < 0 ? part : part.slice(0, eq)).toLowerCase(), eq < 0 ? "" : part.slice(eq + 1));
  }
  const type = (kv.get("type") ?? "bind") as MountRequest["type"];
  if (!["bind", "cache", "tmpfs", "secret"].includes(type)) throw new InvalidParameterError(`unsupported mount type "${type}"`);
  const bool = (k: string) => kv.has(k) && kv.get(k) !== "false";
  let target = kv.get("target") ?? kv.get("dst") ?? kv.get("destination") ?? "";
  const id = kv.get("id") ?? "";
  if (!target && type === "secret") target = `/run/secrets/${id}`;
  if (!target) throw new InvalidParameterError(`mount type ${type} requires a target`);
  if (!posix.isAbsolute(target)) target = posix.join(workdir || "/", target);
  const num = (k: string) => (kv.has(k) ? Number.parseInt(kv.get(k)!, k === "mode" ? 8 : 10) : null);
  return {
    type,
    target: posix.normalize(target),
    source: kv.get("source") ?? kv.get("src") ?? "",
    from: kv.get("from") ?? null,
    readonly: type === "bind" ? !bool("rw") && !bool("readwrite") : bool("ro") || bool("readonly"),
    id: id || (type === "secret" ? posix.basename(target) : target),
    mode: num("mode"),
    uid: num("uid") ?? 0,
    gid: num("gid") ?? 0,
    required: bool("required"),
    size: num("size"),
  };
}

/** The part of a mount that decides a RUN's result (never a secret's content). */
export function mountKey(m: MountRequest): string {
  return [m.type, m.target, m.source, m.from ?? "", m.readonly, m.id, m.mode ?? "", m.uid, m.gid].join("|");
}

export interface MountEnv {
  /** The build's private scratch dir (secrets, rw bind copies). */
  scratch: string;
  cacheDir: string;
  cache: BuildCacheStore;
  secrets: Record<string, Uint8Array>;
  /** Root of the tree a bind mount's source is in (the context, or a stage's view). */
  sourceRoot(from: string | null): Promise<string>;
}

/** Turns the requests into container mounts; a missing optional secret is skipped (BuildKit's rule). */
export async function containerMounts(reqs: MountRequest[], env: MountEnv): Promise<ContainerMountSpec[]> {
  const out: ContainerMountSpec[] = [];
  for (const m of reqs) {
    switch (m.type) {
      case "bind": {
        const root = await env.sourceRoot(m.from);
        let src = secureJoin(root, m.source || "/");
        if (!m.readonly) {
          // Writes to a rw bind are thrown away: the RUN gets a copy.
          const copy = mkdtempSync(join(env.scratch, "bind-"));
          cpSync(src, join(copy, "src"), { recursive: true, preserveTimestamps: true, verbatimSymlinks: true });
          src = join(copy, "src");
        }
        out.push({ Type: "bind", Source: src, Target: m.target, ReadOnly: m.readonly });
        break;
      }
      case "cache": {
        const known = env.cache.mount(m.id);
        const dir = known?.dir ?? join(env.cacheDir, sha256(m.id).slice(0, 32));
        mkdirSync(dir, { recursive: true, mode: m.mode ?? 0o755 });
        if (!known) {
          chownSync(dir, m.uid, m.gid);
          if (m.mode !== null) chmodSync(dir, m.mode);
        }
        env.cache.putMount(m.id, dir);
        out.push({ Type: "bind", Source: dir, Target: m.target, ReadOnly: m.readonly });
        break;
      }
      case "tmpfs":
        out.push({ Type: "tmpfs", Target: m.target, ...(m.size ? { TmpfsOptions: { SizeBytes: m.size } } : {}) });
        break;
      case "secret": {
        const data = env.secrets[m.id];
        if (!data) {
          if (m.required) throw new InvalidParameterError(`secret ${m.id}: not found`);
          continue;
        }
        const dir = join(env.scratch, "secrets");
        mkdirSync(dir, { recursive: true, mode: 0o700 });
        const file = join(dir, sha256(m.id).slice(0, 32));
        writeFileSync(file, data, { mode: 0o600 });
        chownSync(file, m.uid, m.gid);
        chmodSync(file, m.mode ?? 0o400);
        out.push({ Type: "bind", Source: file, Target: m.target, ReadOnly: true });
        break;
      }
    }
  }
  return out;
}
