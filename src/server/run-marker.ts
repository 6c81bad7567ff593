// A daemon that dies (a Bun panic, SIGKILL, the OOM killer) cannot say so
// itself. It leaves `daemon.running` under its root while it runs and removes
// it on a clean shutdown; the next daemon finds it and says, in one line, that
// its predecessor died and where that one's stderr (Bun's crash report) went.
import { existsSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface RunMarker {
  pid: number;
  startedAt: string;
  /** Where the daemon's stderr went (its log), when that was a file. */
  log: string | null;
}

export const markerPath = (root: string) => join(root, "daemon.running");

/** The file behind our stderr, if it is one (the on-demand start's daemon.log, a shell's 2>>file). */
export function stderrFile(): string | null {
  try {
    const target = readlinkSync("/proc/self/fd/2");
    return target.startsWith("/") && statSync(target).isFile() ? target : null;
  } catch {
    return null;
  }
}

/**
 * The one-line warning about a previous daemon that did not shut down cleanly,
 * or null. Read with the root's lock held, so no live daemon owns a marker found here.
 */
export function previousDeath(root: string): string | null {
  const path = markerPath(root);
  if (!existsSync(path)) return null;
  let prev: Partial<RunMarker> = {};
  try {
    prev = JSON.parse(readFileSync(path, "utf8")) as RunMarker;
  } catch {}
  const where = prev.log ? `its log (and any crash report at its end): ${prev.log}` : "its stderr was not a file, so no crash report was kept";
  return `the previous daemon (pid ${prev.pid ?? "?"}, started ${prev.startedAt ?? "?"}) did not shut down cleanly; ${where}`;
}

/**
 * Once this daemon is up: its marker replaces the previous one. A start that
 * fails writes none, so the next one that succeeds still reports a death.
 */
export function writeMarker(root: string, self: RunMarker): void {
  writeFileSync(markerPath(root), JSON.stringify(self) + "\n");
}

/** A clean shutdown: nothing to report next time. */
export function clearMarker(root: string): void {
  rmSync(markerPath(root), { force: true });
}
