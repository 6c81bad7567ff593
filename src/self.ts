import { resolve } from "node:path";

/**
 * The argv prefix that re-runs this program: the binary alone when compiled
 * (`dist/ctr`), or `bun src/cli.ts` when running from source in development
 * and tests. Used to start the daemon on demand and to spawn `ctr init`.
 */
export function selfCommand(): string[] {
  if (isCompiled()) return [process.execPath];
  return [process.execPath, resolve(import.meta.dir, "cli.ts")];
}

export function isCompiled(): boolean {
  return import.meta.path.startsWith("/$bunfs/") || import.meta.path.startsWith("B:/~BUN/");
}
