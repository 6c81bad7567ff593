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
  "security/invalid-security-opt/status": {
    what: "an unknown --security-opt: ctr answers 400, dockerd 20.10 500 (same message)",
    why: "it is the caller's mistake; newer moby answers 400 too (errdefs.InvalidParameter)",
  },
  "security/apparmor-unavailable/refused": {
    what: "--security-opt apparmor=<profile> on a host without AppArmor: ctr refuses (400), dockerd runs the container unconfined",
    why: "the user asked for a confinement the host cannot give; silently ignoring it is a security bug. apparmor=unconfined still passes",
  },
  "security/label-unavailable/refused": {
    what: "--security-opt label=<...> on a host without SELinux: ctr refuses (400), dockerd ignores it",
    why: "as for AppArmor; label=disable (asks for nothing) still passes, so compose files keep working across hosts",
  },
  "security/seccomp-profile/validated-at-create": {
    what: "a seccomp profile that cannot load (bad JSON, unknown action) is refused at create (400); dockerd creates the container and fails at start",
    why: "nothing invalid is ever stored (DESIGN.md conventions)",
  },
  "build/history/content-hash": {
    what: "the hash in COPY/ADD history text (`COPY file:<hash> in /dst `)",
    why: "each builder hashes the copied files its own way (dockerd: tarsum of headers+content; ctr: sha256 over names, modes and content, never mtimes); the text around it is dockerd's",
  },
  "build/stream/metadata-steps": {
    what: "config-only steps (ENV, LABEL, CMD, …) print ` ---> <id>` without ` ---> Running in …` / `Removing intermediate container …`",
    why: "ctr commits a config-only step without creating and removing a container (dockerd 20.10 makes one per step); the image, its config and history are the same",
  },
  "build/stream/skipped-stages": {
    what: "`Step N/M` counts only the stages the target needs, and unneeded stages print nothing",
    why: "stages the target does not depend on are skipped (BuildKit's behaviour, asked by the issue); dockerd's classic builder runs every stage up to the target",
  },
};

/** True when the difference at `key` is listed as intended. */
export function intended(key: string): boolean {
  return key in INTENDED;
}
