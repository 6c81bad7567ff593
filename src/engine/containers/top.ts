// `docker top` with ps options: like dockerd, run the host's ps with them and
// keep the rows whose PID belongs to the container (processes.go: parsePSOutput).
import { EngineError, InvalidParameterError } from "../errors.ts";

export interface ProcessList {
  Titles: string[];
  Processes: string[][];
}

/** dockerd refuses `k=PID…` options other than pid= (they would hide the PID column). */
export function validatePsArgs(psArgs: string): void {
  for (const m of psArgs.matchAll(/\s+(\S*)=\s*(PID\S*)/g)) {
    if (m[1] !== "pid") throw new InvalidParameterError(`specifying "${m[1]}=${m[2]}" is not allowed`);
  }
}

export async function psWithArgs(psArgs: string, pids: number[]): Promise<ProcessList> {
  validatePsArgs(psArgs);
  const p = Bun.spawn(["ps", ...psArgs.split(" ").filter(Boolean)], { stdout: "pipe", stderr: "pipe", stdin: "ignore" });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  if (code !== 0) throw new EngineError(`Error running ps: exit status ${code}: ${err.trim()}`);
  return parsePsOutput(out, new Set(pids));
}

export function parsePsOutput(out: string, pids: Set<number>): ProcessList {
  const lines = out.split("\n");
  const Titles = (lines[0] ?? "").trim().split(/\s+/);
  const pidIndex = Titles.indexOf("PID");
  if (pidIndex < 0) throw new EngineError("Couldn't find PID field in ps output");
  const Processes: string[][] = [];
  for (const line of lines.slice(1)) {
    const f = line.trim().split(/\s+/);
    if (!line.trim()) continue;
    const pid = Number(f[pidIndex]);
    if (!Number.isInteger(pid)) throw new EngineError(`Unexpected pid '${f[pidIndex]}'`);
    // The last column (the command) may hold spaces: it takes the rest of the line.
    if (pids.has(pid)) Processes.push([...f.slice(0, Titles.length - 1), f.slice(Titles.length - 1).join(" ")]);
  }
  return { Titles, Processes };
}
