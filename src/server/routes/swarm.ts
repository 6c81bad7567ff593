// Swarm mode: ctr is never part of a swarm, so every swarm path answers as a
// dockerd that is not in one (503 with its messages, as Debian's dockerd 20.10
// words them), not 404: clients such as docker-py and Compose probe these and
// expect exactly that. Joining or creating a swarm is refused as not supported.
import type { App } from "../app.ts";
import { NotImplementedError, UnavailableError } from "../../engine/errors.ts";

const NOT_MANAGER =
  'This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.';
const NOT_IN_SWARM = "This node is not part of a swarm";

/** Paths below which dockerd answers NOT_MANAGER for every method when no swarm runs. */
const MANAGER_PATHS = ["/swarm", "/swarm/unlockkey", "/swarm/unlock", "/swarm/update", "/nodes", "/services", "/tasks", "/secrets", "/configs"];

export function swarmRoutes(app: App): void {
  const notManager = () => {
    throw new UnavailableError(NOT_MANAGER);
  };
  app.post("/swarm/init", () => {
    throw new NotImplementedError("ctr does not support swarm mode");
  });
  app.post("/swarm/join", () => {
    throw new NotImplementedError("ctr does not support swarm mode");
  });
  app.post("/swarm/leave", () => {
    throw new UnavailableError(NOT_IN_SWARM);
  });
  for (const p of MANAGER_PATHS) {
    app.all(p, notManager);
    if (p !== "/swarm" && !p.startsWith("/swarm/")) app.all(`${p}/*`, notManager);
  }
}
