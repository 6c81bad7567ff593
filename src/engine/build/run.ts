// RUN: a container from the step's parent image, started through the same
// container service (exec driver, network driver, volumes) as `ctr run`. Its
// output goes to the build stream; a non-zero exit is Docker's error; a
// cancelled build kills it. The caller turns its rw layer into the step's layer.
import type { ContainerService } from "../containers/service.ts";
import type { StageLog } from "./output.ts";
import { BuildError, BuildCancelledError } from "./errors.ts";

export interface RunRequest {
  imageId: string;
  argv: string[];
  env: string[];
  user: string;
  workdir: string;
  network: string;
  mounts: { Type: string; Source?: string; Target: string; ReadOnly?: boolean }[];
  /** extrahosts and the build's limits, as HostConfig fields. */
  hostConfig: Record<string, unknown>;
  /** Docker shows the command as its argv joined by spaces. */
  display: string;
  signal: AbortSignal;
  log: StageLog;
  quietOutput?: boolean;
}

/** Runs the command; resolves with the (stopped) container's id. The caller removes it. */
export async function runContainer(containers: ContainerService, r: RunRequest): Promise<string> {
  const { Id: id } = await containers.create(undefined, {
    Image: r.imageId,
    Cmd: r.argv,
    Entrypoint: [""],
    Env: r.env,
    User: r.user,
    WorkingDir: r.workdir,
    AttachStdout: true,
    AttachStderr: true,
    Labels: {},
    HostConfig: { ...r.hostConfig, NetworkMode: r.network, Mounts: r.mounts.length ? r.mounts : null, AutoRemove: false },
  });
  r.log.running(id);
  const decoder = new TextDecoder();
  const { detach } = containers.attach(id, {
    onOutput: (_s, chunk) => {
      const text = decoder.decode(chunk, { stream: true });
      if (text) r.log.text(text);
    },
    onEnd: () => {},
  });
  // Not running yet is fine: the check after start kills it then.
  const onAbort = () => void containers.kill(id, "KILL").catch(() => {});
  try {
    if (r.signal.aborted) throw new BuildCancelledError();
    r.signal.addEventListener("abort", onAbort, { once: true });
    const waited = containers.wait(id, "next-exit");
    await containers.start(id);
    if (r.signal.aborted) onAbort();
    const { StatusCode } = await waited;
    if (r.signal.aborted) throw new BuildCancelledError();
    if (StatusCode !== 0) throw new BuildError(`The command '${r.display}' returned a non-zero code: ${StatusCode}`, StatusCode, id);
    return id;
  } catch (e) {
    if (!(e instanceof BuildError)) await containers.remove(id, { force: true, volumes: true }).catch(() => {});
    throw e;
  } finally {
    r.signal.removeEventListener("abort", onAbort);
    detach();
  }
}
