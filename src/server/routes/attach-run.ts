// ctr's own `run` conversation (issue 16): POST /containers/{id}/attach with
// stream=1 and run=<wait condition>. Once subscribed, the attach also starts
// the container, and the stream ends with one frame of stream 3 (stdcopy's
// Systemerr) holding JSON: the wait's answer, or the start's error as the
// start route would have answered it. `ctr run` so makes one round trip where
// the docker CLI makes three (attach, wait, start) — each ~2–3 ms here, and the
// client's answer to start came only after the daemon's work that follows it.
// Docker's clients never send `run`; without it the attach is Docker's.
// `ctr run` goes one step further: POST /containers/create with `Upgrade: tcp`
// and run= (plus the attach's stream/stdin/stdout/stderr) creates the
// container and answers with this same conversation (X-Ctr-Container-Id on
// the 101), so the run is one request on one connection. A create that fails
// answers as Docker's would; a daemon without it answers 201 and the client
// attaches with run= (or Docker's order) as before.
import type { Engine } from "../../engine/engine.ts";
import { StartJob, WaitJob } from "../../engine/containers/jobs.ts";
import type { WaitCondition } from "../../engine/containers/waits.ts";
import { BadRequestError, statusOf } from "../errors.ts";

const CONDITIONS: WaitCondition[] = ["not-running", "next-exit", "removed"];

/**
 * On the 101 of an attach (or exec start) that honours `run` (`status`): a
 * daemon that ignores them (dockerd, an older ctr) sends none, and the client
 * then starts and waits itself rather than wait for a start that never comes.
 */
export const ENDS_WITH_STATUS_HEADER = "X-Ctr-Ends-With-Status";

/** On the 101 of a create with run=: the id of the container it made. */
export const CONTAINER_ID_HEADER = "X-Ctr-Container-Id";

/** The last frame's JSON: Docker's wait answer, or `start` when the container did not start. */
export interface RunEnd {
  StatusCode?: number;
  Error?: { Message: string } | null;
  start?: { status: number; message: string };
}

/** The `run` query value, checked; undefined for Docker's plain attach. */
export function runCondition(value: string | undefined, stream: boolean, tty: boolean): WaitCondition | undefined {
  if (value === undefined) return undefined;
  if (!CONDITIONS.includes(value as WaitCondition)) throw new BadRequestError(`invalid run condition: "${value}"`);
  // A terminal's output is not framed: there is no place for the last frame.
  if (!stream || tty) throw new BadRequestError("run needs stream=1 and a container without a TTY");
  return value as WaitCondition;
}

/**
 * Registers the wait, then starts `id` (call it once the attach is
 * subscribed). Returns what ends the stream, once it is known; `failed` is
 * called when the start fails (some failures never end the output).
 */
export async function startAndWait(engine: Engine, id: string, condition: WaitCondition, failed: () => void): Promise<() => Promise<RunEnd>> {
  const { result: waited } = await engine.start(WaitJob, { ref: id, condition });
  const started = engine.run(StartJob, { ref: id }).then(
    () => null,
    (e: unknown) => {
      queueMicrotask(failed);
      return e as Error;
    },
  );
  return async () => {
    const err = await started;
    if (err) return { start: { status: statusOf(err), message: err.message } };
    return await waited;
  };
}
