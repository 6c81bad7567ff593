// Builds the static probe (probe.c) into a temp dir, once per test file.
import { chmodSync, closeSync, copyFileSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const haveCompiler = Bun.which("gcc") !== null && (existsSync("/usr/lib/x86_64-linux-gnu/libc.a") || existsSync("/usr/lib/aarch64-linux-gnu/libc.a"));

export interface Probe {
  dir: string;
  /** The probe binary (mode 0755). */
  bin: string;
  /** A copy, setuid root (mode 04755). */
  setuid: string;
  dispose(): void;
}

export function buildProbe(): Probe {
  const dir = mkdtempSync(join(tmpdir(), "ctr-probe-"));
  const bin = join(dir, "probe");
  const r = Bun.spawnSync(["gcc", "-static", "-O2", "-o", bin, join(import.meta.dir, "probe.c")]);
  if (r.exitCode !== 0) throw new Error(`gcc failed: ${r.stderr.toString()}`);
  const setuid = join(dir, "probe-suid");
  copyFileSync(bin, setuid);
  chmodSync(setuid, 0o4755);
  chmodSync(dir, 0o755);
  return { dir, bin, setuid, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * A block device of the host that the host's root can open, as [major, minor]
 * (/sys/block/<dev>/dev): a container's root must not, so the probe is only
 * meaningful for a device the host itself may read (a sandbox may refuse some).
 */
export function hostBlockDevice(): [number, number] | null {
  const names = readdirSync("/sys/block").sort((a, b) => Number(a.startsWith("loop")) - Number(b.startsWith("loop")));
  for (const d of names) {
    try {
      closeSync(openSync(`/dev/${d}`, "r"));
    } catch {
      continue;
    }
    const [ma, mi] = readFileSync(`/sys/block/${d}/dev`, "utf8").trim().split(":").map(Number);
    return [ma!, mi!];
  }
  return null;
}
