// Docker's "local" volume driver options (moby volume/local/local_unix.go):
// `-o type=tmpfs -o device=tmpfs -o o=size=64m`, or `type=none,o=bind,
// device=/host/dir`. The volume's _data is mounted from them while it is in
// use and unmounted before the volume goes, so removing a volume never
// deletes through a live mount (a bind-option volume points at host data).
import { readFileSync } from "node:fs";
import { mountSpec, unmountAllUnder } from "../../kernel/mount.ts";
import { InvalidParameterError } from "../errors.ts";

const VALID = ["type", "device", "o"];
/** An option and the options it needs (moby's mandatoryOpts). */
const REQUIRES: Record<string, string[]> = { device: ["type"], type: ["device"], o: ["device", "type"] };

export function validateOptions(opts: Record<string, string>): void {
  for (const k of Object.keys(opts)) {
    if (!VALID.includes(k)) throw new InvalidParameterError(`invalid option: "${k}"`);
  }
  for (const [k, needs] of Object.entries(REQUIRES)) {
    if (!(k in opts)) continue;
    for (const n of needs) if (!(n in opts)) throw new InvalidParameterError(`missing required option: "${n}"`);
  }
}

export function needsMount(opts: Record<string, string> | null): opts is Record<string, string> {
  return !!opts && !!opts.device;
}

export function isMountPoint(path: string): boolean {
  return readFileSync("/proc/self/mounts", "utf8")
    .split("\n")
    .some((l) => (l.split(" ")[1] ?? "").replace(/\\040/g, " ") === path);
}

/** Mounts the volume's device on its _data unless it is there already. */
export function mountVolume(name: string, opts: Record<string, string>, mountpoint: string): void {
  if (isMountPoint(mountpoint)) return;
  try {
    mountSpec({ type: opts.type!, source: opts.device!, options: (opts.o ?? "").split(",").filter(Boolean) }, mountpoint);
  } catch (e) {
    throw new InvalidParameterError(`error while mounting volume '${name}': failed to mount local volume: ${(e as Error).message}`);
  }
}

/** Detaches whatever is mounted in the volume's directory (its _data and below). */
export function unmountVolume(volumeDir: string): void {
  unmountAllUnder(volumeDir);
  const prefix = `${volumeDir}/`;
  const left = readFileSync("/proc/self/mounts", "utf8").split("\n").some((l) => (l.split(" ")[1] ?? "").startsWith(prefix));
  if (left) throw new Error(`${volumeDir} is still mounted: not removing through a live mount`);
}
