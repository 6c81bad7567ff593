// The ONE place where a differential suite lists how ctr is meant to answer
// differently from dockerd, each with why. A difference found by a suite and
// not listed here is a failure. Keys are "<suite>/<scenario>/<path>".
export interface IntendedDifference {
  /** What differs (a JSON path into the normalised answers, or a scenario). */
  what: string;
  why: string;
}

export const INTENDED: Record<string, IntendedDifference> = {
  "smoke/version/Components": {
    what: "the component list: dockerd reports containerd, runc and docker-init; ctr is one binary",
    why: "ctr has no containerd, runc or shim: the engine and the runtime are the same executable",
  },
};

/** True when the difference at `key` is listed as intended. */
export function intended(key: string): boolean {
  return key in INTENDED;
}
