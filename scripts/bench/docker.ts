// Docker's side of the exec figure: `docker exec CONTAINER true` against
// Debian's dockerd (test/helpers/dockerd.ts), the same busybox image from the
// bench's local registry.
import { startDockerd, dockerdSkipReason } from "../../test/helpers/dockerd.ts";
import { timeCommand } from "./floors.ts";

/** Median-ready times of `docker exec … true`, or why they could not be taken. */
export async function timeDockerExec(image: string, runs: number): Promise<number[] | string> {
  if (dockerdSkipReason) return dockerdSkipReason;
  await using d = await startDockerd();
  const pull = await d.docker(["pull", "-q", image]);
  if (pull.code !== 0) return `docker pull failed: ${pull.stderr.trim()}`;
  const r = await d.docker(["run", "-d", "--network", "none", image, "sleep", "600"]);
  if (r.code !== 0) return `docker run failed: ${r.stderr.trim()}`;
  const id = r.stdout.trim();
  try {
    await timeCommand(["docker", "-H", d.host, "exec", id, "true"], 1); // warm
    return await timeCommand(["docker", "-H", d.host, "exec", id, "true"], runs);
  } finally {
    await d.docker(["rm", "-f", id]);
  }
}
