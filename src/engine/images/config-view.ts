// An image's Config (and ContainerConfig) as dockerd answers it: the OCI
// config's `config` decoded into Docker's container.Config and marshalled
// again, so every field is there — zero values where the image has none
// (ExposedPorts, StopSignal, Healthcheck, Shell… only when set: omitempty).
const ZERO = {
  Hostname: "", Domainname: "", User: "", AttachStdin: false, AttachStdout: false, AttachStderr: false,
  Tty: false, OpenStdin: false, StdinOnce: false, Env: null, Cmd: null, Image: "", Volumes: null,
  WorkingDir: "", Entrypoint: null, OnBuild: null, Labels: null,
};

export function containerConfigView(config: Record<string, unknown> | null | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = { ...ZERO };
  for (const [k, v] of Object.entries(config ?? {})) if (v !== undefined) out[k] = v;
  return out;
}
