// Small readers for cgroup files: a missing file reads as empty, because
// controllers differ between kernels and hierarchies.
import { existsSync, readdirSync, readFileSync, rmdirSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export function readText(p: string): string {
  try {
    return readFileSync(p, "utf8");
  } catch {
    return "";
  }
}

export function readNum(p: string): number {
  const t = readText(p).trim();
  return t === "" || t === "max" ? 0 : Number(t) || 0;
}

/** "key value" lines (memory.stat, cpu.stat, memory.events, memory.oom_control). */
export function readKeyed(p: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of readText(p).split("\n")) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined) out[k] = Number(v);
  }
  return out;
}

/** Writes when the file exists (a controller may be missing on this kernel). Returns whether it wrote. */
export function writeIfExists(p: string, v: string | number): boolean {
  if (!existsSync(p)) return false;
  writeFileSync(p, String(v));
  return true;
}

export function procs(dir: string): number[] {
  return readText(join(dir, "cgroup.procs")).split("\n").filter(Boolean).map(Number);
}

export function subdirs(dir: string): string[] {
  try {
    return readdirSync(dir).filter((n) => statSync(join(dir, n)).isDirectory());
  } catch {
    return [];
  }
}

/** Polls `done` until true or the deadline; cgroup state changes are asynchronous. */
export async function until(done: () => boolean, ms = 5000): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (let wait = 1; ; wait = Math.min(wait * 2, 50)) {
    if (done()) return true;
    if (Date.now() > deadline) return false;
    await Bun.sleep(wait);
  }
}

/**
 * SIGKILLs everything in `dir` until it is empty, then rmdir. A fork racing the
 * kill lands in the same cgroup and is caught on the next pass. Fake trees in
 * tests have no kernel behind them: their files are removed first.
 */
export async function killAndRemove(dir: string, fake = false): Promise<void> {
  if (!existsSync(dir)) return;
  await until(() => {
    const ps = procs(dir);
    for (const p of ps) {
      try {
        process.kill(p, 9);
      } catch {}
    }
    return ps.length === 0;
  });
  for (const child of subdirs(dir)) await killAndRemove(join(dir, child), fake);
  if (fake) for (const f of readdirSync(dir)) rmFile(join(dir, f));
  try {
    rmdirSync(dir);
  } catch {}
}

function rmFile(p: string): void {
  try {
    if (!statSync(p).isDirectory()) unlinkSync(p);
  } catch {}
}
