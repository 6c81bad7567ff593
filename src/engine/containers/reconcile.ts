// What a starting daemon does with a container whose processes a previous
// daemon left behind (it crashed or was killed -9): the container's cgroup
// still holds processes, whether the store recorded it as running or the
// daemon died between spawning its init and recording the start (it then
// still shows "created"). Nobody holds their stdio or will collect their exit.
import type { Container } from "./types.ts";

/**
 * Today always "kill": the processes are killed and the end is recorded.
 * With live restore the branch for "adopt" goes here (a container recorded
 * as running whose init outlived the daemon), and only here.
 */
export type LeftoverVerdict = "kill";

export function leftoverVerdict(_c: Container): LeftoverVerdict {
  return "kill";
}

/** The end a killed leftover gets in the store (dockerd's 137: killed by SIGKILL). */
export function leftoverExit(c: Container, hadProcesses: boolean): { ExitCode: number; Error: string } | null {
  if (c.state.Running) return { ExitCode: 137, Error: "container was running when the daemon stopped" };
  if (hadProcesses && c.state.Status === "created") return { ExitCode: 137, Error: "container was starting when the daemon stopped" };
  return null;
}
