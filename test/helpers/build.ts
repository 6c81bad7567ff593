// Shared by the build suites: the fixture contexts (test/fixtures/build) and a
// copy of one in a temp dir when a test must change a file.
import { cpSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { run, type RunResult } from "./daemon.ts";

export const FIXTURES = resolve(import.meta.dir, "../fixtures/build");
export const fixture = (name: string) => join(FIXTURES, name);

/** A private copy of a fixture context (the caller removes it). */
export function copyFixture(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `ctr-build-${name}-`));
  cpSync(fixture(name), dir, { recursive: true, verbatimSymlinks: true });
  return dir;
}

/** The docker CLI's classic builder (no buildx here): DOCKER_BUILDKIT=0. */
export function dockerBuild(host: string, args: string[], opts: { stdin?: string } = {}): Promise<RunResult> {
  return run(["docker", "-H", host, "build", ...args], { env: { DOCKER_BUILDKIT: "0" }, stdin: opts.stdin });
}

/** The image config section as JSON. */
export async function imageConfig(host: string, ref: string): Promise<Record<string, unknown>> {
  const r = await run(["docker", "-H", host, "image", "inspect", "-f", "{{json .Config}}", ref]);
  if (r.code !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

/** created_by of each history entry, oldest first. */
export async function historyCreatedBy(host: string, ref: string): Promise<string[]> {
  const r = await run(["docker", "-H", host, "history", "--no-trunc", "--format", "{{.CreatedBy}}", ref]);
  if (r.code !== 0) throw new Error(r.stderr);
  return r.stdout.trimEnd().split("\n").reverse();
}
