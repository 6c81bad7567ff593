// Builds the static probe (probe.c) into a temp dir, once per test file.
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
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

/** The first block device of the host as "major minor" (/sys/block/<dev>/dev). */
export function hostBlockDevice(): [number, number] | null {
  for (const d of ["vda", "sda", "nvme0n1", "xvda", "loop0"]) {
    const f = `/sys/block/${d}/dev`;
    if (existsSync(f)) {
      const [ma, mi] = readFileSync(f, "utf8").trim().split(":").map(Number);
      return [ma!, mi!];
    }
  }
  return null;
}
