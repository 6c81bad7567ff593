// Debian's docker-compose 1.29 driven against a daemon (dockerd or ctr), for
// the differential Compose suites: one project directory, the same compose
// file, run against both and the outcomes compared.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run, type RunResult } from "./daemon.ts";

export const COMPOSE_BIN = "/usr/bin/docker-compose";
export const haveCompose = existsSync(COMPOSE_BIN);

/** One daemon as a Compose target: where it listens and the values its compose files interpolate. */
export interface ComposeTarget {
  name: "dockerd" | "ctr";
  host: string;
  /** Runs the docker CLI against this daemon. */
  docker(args: string[]): Promise<RunResult>;
  /** ${VAR}s of the compose files: the image, a /16 prefix of its own for fixed subnets (e.g. "10.211"). */
  env: Record<string, string>;
}

/** A temp project directory with the files of a scenario (compose file, env files, bind sources). */
export function projectDir(files: Record<string, string>): { dir: string; [Symbol.dispose](): void } {
  const dir = mkdtempSync(join(tmpdir(), "ctr-compose-"));
  for (const [name, text] of Object.entries(files)) {
    const p = join(dir, name);
    mkdirSync(join(p, ".."), { recursive: true });
    writeFileSync(p, text);
  }
  return { dir, [Symbol.dispose]: () => rmSync(dir, { recursive: true, force: true }) };
}

/** `docker-compose -p <project> <args>` in `dir` against `t`. */
export function compose(t: ComposeTarget, dir: string, project: string, args: string[], o: { file?: string } = {}): Promise<RunResult> {
  return run([COMPOSE_BIN, "--no-ansi", "-p", project, ...(o.file ? ["-f", o.file] : []), ...args], {
    cwd: dir,
    // `run` and `exec` go through the docker CLI on PATH, as Compose does by default.
    env: { DOCKER_HOST: t.host, ...t.env },
  });
}
