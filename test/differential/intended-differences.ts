// The ONE place where a differential suite lists how ctr is meant to answer
// differently from dockerd, each with why. A difference found by a suite and
// not listed here is a failure. Keys are "<suite>/<scenario>/<path>"; a "*"
// stands for any text without a "." (one path segment: a container, an index).
export interface IntendedDifference {
  /** What differs (a JSON path into the normalised answers, or a scenario). */
  what: string;
  why: string;
}

export const INTENDED: Record<string, IntendedDifference> = {
  "http-front/http10/[0].close": {
    what: "an answer to an HTTP/1.0 request: ctr says `Connection: close`, dockerd closes without saying it; both close",
    why: "ctr's answer is what its node:http front sent (HTTP/1.0 closes by default, so the field only says it twice); HTTP/1.0 is served without keep-alive",
  },
  "networks/dns/resolv-conf/out[0]": {
    what: "the nameserver of a container on a user network: dockerd writes 127.0.0.11, ctr the network's gateway",
    why: "ctr's embedded resolver listens on each network's gateway address, so a container needs no DNAT rules in its own namespace; it answers the same names (and forwards to --dns) as dockerd's",
  },
  "networks/dns/forward-search/out[3]": {
    what: "the same nameserver line, with --dns/--dns-search/--dns-option",
    why: "as networks/dns/resolv-conf: the resolver is on the gateway; --dns is where it forwards, as in dockerd",
  },
  "networks/dns/forward/out[3]": {
    what: "the same nameserver line, with --dns",
    why: "as networks/dns/resolv-conf",
  },
  "orchestrators/sysctl-refused/message": {
    what: "a sysctl outside the container's namespaces: dockerd answers \"failed to create shim task: OCI runtime create failed: runc create failed: <runc's sentence>: unknown\", ctr runc's sentence alone",
    why: "ctr has no shim and no runc; the sentence that says what is wrong is runc's, word for word",
  },
  "orchestrators/sysctl-refused/status": {
    what: "that refusal: ctr answers 400, dockerd 20.10 500",
    why: "it is the caller's mistake (an invalid HostConfig), found before anything runs",
  },
  "orchestrators/systemd-driver/when": {
    what: "--exec-opt native.cgroupdriver=systemd where systemd does not run: ctr refuses to start with runc's sentence; dockerd 20.10 starts, /info says systemd, and every container start fails with \"... runc create failed: <that sentence>: unknown\"",
    why: "a daemon that can start no container is better refused at once; the words are the same, runc's",
  },
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
  "security/userns-mode/refused": {
    what: "HostConfig.UsernsMode other than \"\", \"host\" or \"auto\" (and \"auto\" on a daemon without --userns-remap): ctr refuses (400), dockerd 20.10 accepts it and runs in the host's user namespace",
    why: "a user namespace asked for and not given must not pass silently; \"auto\" (a range per container) is ctr's, beyond Docker",
  },
  "userns/state-pid/supervisor": {
    what: "under --userns-remap, State.Pid is `ctr init` (host root, outside the user namespace) and the command is its child; dockerd's State.Pid is the command (the mapped uid)",
    why: "Bun cannot enter a user namespace (multi-threaded); init does the mounts as host root, forks the command into the user namespace through a single-threaded C step and stays pid 1 to forward signals and reap (DESIGN.md, exec driver)",
  },
  "userns/shared-map/first-65536": {
    what: "--userns-remap <user> maps the first 65536 ids of the user's subordinate ranges to every remapped container; dockerd maps all of them",
    why: "the rest is the pool --userns=auto takes a distinct block from for each container, which must not overlap the shared map; for `default` (ctremap/dockremap) container ids 0..65535 are the same either way",
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
  "validation/*/500-as-400": {
    what: "a body dockerd 20.10 cannot decode (wrong JSON types, truncated JSON) or a bad integer parameter (strconv.Atoi) is its 500; ctr answers 400 with the same message",
    why: "it is the client's error, and newer dockerd answers these 400 too (errdefs.InvalidParameter around the decoder); the message text is kept word for word",
  },
  "validation/create/no-image/status": {
    what: "dockerd 20.10 creates a container without an Image (it fails at start); ctr refuses it at create",
    why: "nothing that can never start is stored",
  },
  "validation/create/no-image/message": {
    what: "ctr's refusal of a create without Image has a message; dockerd gave an Id",
    why: "see validation/create/no-image/status",
  },
  "validation/create/Volumes-relative/status": {
    what: "Config.Volumes with a relative path: dockerd 20.10 stores it and fails at start; ctr refuses it at create (400)",
    why: "nothing that can never start is stored",
  },
  "validation/create/Volumes-relative/message": {
    what: "ctr's refusal names the relative path; dockerd gave an Id",
    why: "see validation/create/Volumes-relative/status",
  },
  "validation/create/HostConfig.PortBindings-bad-proto/status": {
    what: "a port binding with a protocol other than tcp/udp/sctp: dockerd 20.10 stores it; ctr refuses it (400 invalid port specification)",
    why: "such a binding can never be published; stored, it made start fail with a raw firewall error",
  },
  "validation/create/HostConfig.PortBindings-bad-proto/message": {
    what: "ctr's refusal quotes the port key; dockerd gave an Id",
    why: "see the status entry",
  },
  "validation/create/HostConfig.PortBindings-HostIp-bad/status": {
    what: "a port binding whose HostIp is not an IP address: dockerd 20.10 stores it and fails at start; ctr refuses it (400)",
    why: "nothing that can never start is stored; stored, it made start fail with a raw firewall error",
  },
  "validation/create/HostConfig.PortBindings-HostIp-bad/message": {
    what: "ctr's refusal names the address; dockerd gave an Id",
    why: "see the status entry",
  },
  "validation/create/ExposedPorts-bad-port/status": {
    what: "ExposedPorts {\"99999/tcp\": {}}: dockerd 20.10 stores it; ctr refuses it (400 invalid port specification)",
    why: "stored, the docker CLI can no longer list containers (it cannot decode PrivatePort 99999 as a uint16)",
  },
  "validation/create/ExposedPorts-bad-port/message": {
    what: "ctr's refusal quotes the port; dockerd gave an Id",
    why: "see the status entry",
  },
  "validation/create/HostConfig.Ulimits-bogus/status": {
    what: "an unknown ulimit name: dockerd 20.10 stores it and fails at start; ctr refuses it at create (400 invalid ulimit type)",
    why: "nothing that can never start is stored",
  },
  "validation/create/HostConfig.Ulimits-bogus/message": {
    what: "ctr's refusal names the ulimit; dockerd gave an Id",
    why: "see the status entry",
  },
  "validation/create/HostConfig.Ulimits-soft-above-hard/status": {
    what: "a ulimit whose soft limit exceeds its hard limit: dockerd 20.10 stores it and fails at start; ctr refuses it at create (400)",
    why: "nothing that can never start is stored",
  },
  "validation/create/HostConfig.Ulimits-soft-above-hard/message": {
    what: "ctr's refusal gives both limits; dockerd gave an Id",
    why: "see the status entry",
  },
  "validation/kill/signal-99/status": {
    what: "kill with a signal number above 64: dockerd 20.10 answers 500 'Cannot kill container: <id>: The linux daemon does not support signal 99'; ctr 400 'Invalid signal: 99'",
    why: "the signal is checked at the API edge like a signal name, before any container is looked at",
  },
  "validation/kill/signal-99/message": {
    what: "see validation/kill/signal-99/status",
    why: "see validation/kill/signal-99/status",
  },
  "validation/wait/condition-bogus/status": {
    what: "wait?condition=bogus: dockerd 20.10 ignores the unknown condition and waits for not-running; ctr answers 400 invalid condition",
    why: "the API documents three conditions; a typo must not silently wait for something else",
  },
  "validation/wait/condition-bogus/message": {
    what: "see validation/wait/condition-bogus/status",
    why: "see validation/wait/condition-bogus/status",
  },
  "compose/*/inspect*/*.HostConfig.CgroupnsMode": {
    what: "HostConfig.CgroupnsMode: ctr \"private\", dockerd 20.10 \"host\" on a cgroup v1 (hybrid) host",
    why: "ctr gives every container its own cgroup namespace on v1 and v2 alike (as Docker does on v2), and reports what it does",
  },
  "compose/*/inspect*/*.HostConfig.MaskedPaths[10]": {
    what: "ctr also masks /sys/devices/virtual/powercap",
    why: "Docker ≥ 23 masks it (powercap energy counters leak host activity, CVE-2020-8694); ctr uses the newer list",
  },
  "compose/*/inspect*/*.HostConfig.Runtime": {
    what: "HostConfig.Runtime: ctr \"ctr\", dockerd \"runc\"",
    why: "ctr is its own runtime (GET /info DefaultRuntime says the same); a request for \"runc\" is accepted and runs on it",
  },
  "compose/*/ps*/rows[*][4][1]": {
    what: "published ports: dockerd 20.10 lists each 0.0.0.0 binding again as :::<port> (its docker-proxy listens on [::] too)",
    why: "ctr publishes through nft DNAT for IPv4 only and runs no userland proxy per port (dockerd 20.10 binds [::] with docker-proxy)",
  },
  "compose/app/probes/internal-route.stdout": {
    what: "a container only on an internal network: dockerd 20.10 gives it a default route through the internal gateway, ctr none (`ip route | grep -c default` prints 1 vs 0)",
    why: "dockerd then drops what leaves in FORWARD only, so the host's other addresses stay reachable through that route; without a route nothing outside the subnet is. Names and addresses on the network work the same",
  },
  "docker-py/containers/created.host.NetworkMode": {
    what: "HostConfig.NetworkMode of a container created without one: dockerd keeps the client's \"default\", ctr shows \"bridge\"",
    why: "ctr resolves \"default\" to the network it means at create and stores that; clients treat the two alike (docker-py, Compose and the CLI read the Networks map)",
  },
  "docker-py/exec/missing[1]": {
    what: "the message of an exec whose command does not exist: dockerd's starts \"OCI runtime exec failed: exec failed: unable to start container process:\" and ends \": unknown\"",
    why: "ctr has no OCI runtime between the daemon and the process; the message is the runtime's own part (exec: \"/nonexistent\": stat …: no such file or directory), exit code 126 as dockerd",
  },
  "docker-py/attach/logs_no_stream": {
    what: "attach(logs=True, stream=False) of an exited container: docker-py gets b'' from dockerd, the logs from ctr",
    why: "dockerd writes the logs right behind the 101 head and docker-py's buffered reader swallows them (docker/docker-py#2042, #3332: the race that lost exec output); ctr writes after the client has read the head, so nothing is lost",
  },
  "docker-py/attach/logs_stdout_only": {
    what: "as docker-py/attach/logs_no_stream, with stderr=False",
    why: "the same race in dockerd; ctr delivers the stdout lines",
  },
};

const escape = (s: string) => s.replace(/[.+?^${}()|[\]\\]/g, "\\$&");
const PATTERNS = Object.keys(INTENDED)
  .filter((k) => k.includes("*"))
  .map((k) => new RegExp(`^${k.split("*").map(escape).join("[^.]*")}$`));

/** True when the difference at `key` is listed as intended. */
export function intended(key: string): boolean {
  return key in INTENDED || PATTERNS.some((p) => p.test(key));
}
