// Docker's --network value → what the exec driver must do with the netns.
import { InvalidParameterError } from "../errors.ts";

export type NetnsPlan = { kind: "new" } | { kind: "host" } | { kind: "join"; pid: number };

export type ModeKind = "bridge" | "host" | "none" | "container" | "user";

export function modeKind(mode: string | undefined): ModeKind {
  if (!mode || mode === "default" || mode === "bridge") return "bridge";
  if (mode === "host" || mode === "none") return mode;
  if (mode.startsWith("container:")) return "container";
  return "user";
}

/**
 * bridge, none and user networks get a fresh netns (plugged afterwards by the
 * network manager, or left with only `lo`); host shares the daemon's;
 * `container:<ref>` joins the netns of that container's first process.
 */
export function resolveNetworkMode(mode: string | undefined, pidOf: (ref: string) => number): NetnsPlan {
  const k = modeKind(mode);
  if (k === "host") return { kind: "host" };
  if (k === "container") {
    const ref = mode!.slice("container:".length);
    if (!ref) throw new InvalidParameterError(`invalid network mode: ${mode}`);
    const pid = pidOf(ref);
    if (!pid) throw new InvalidParameterError(`cannot join the network of container ${ref}: it is not running`);
    return { kind: "join", pid };
  }
  return { kind: "new" };
}

/** Whether the manager must plug a veth into the container's netns. */
export const needsEndpoint = (mode: string | undefined): boolean => {
  const k = modeKind(mode);
  return k === "bridge" || k === "user";
};

/** Whether the container gets a netns of its own (plugged, or `none` with only `lo`). */
export const ownsNetns = (mode: string | undefined): boolean => needsEndpoint(mode) || modeKind(mode) === "none";
