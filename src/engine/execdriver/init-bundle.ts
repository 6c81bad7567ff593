// How the daemon starts `ctr init` fast. The compiled binary's full bundle
// loads node:http, tls, zlib… before `init` can run (~50 ms per container
// start); scripts/build.ts also bundles init-entry.ts alone (fs, path and
// bun:ffi only) and embeds its text here through a build-time define. The
// daemon writes it under its exec root and runs it with the binary's own
// runtime (BUN_BE_BUN=1 makes a compiled binary behave as `bun`).
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { isCompiled, selfCommand } from "../../self.ts";

export interface InitLauncher {
  initCommand: string[];
  initEnv: Record<string, string>;
}

/** The embedded init script, or undefined when running from source. */
function embedded(): string | undefined {
  return process.env.CTR_INIT_BUNDLE || undefined;
}

/** The launcher for the small init bundle, or null (then the driver re-runs the whole binary with `init`). */
export function smallInitLauncher(execRoot: string): InitLauncher | null {
  const script = embedded();
  if (!script || !isCompiled()) return null;
  // Bun loads <script>.jsc beside a script marked @bytecode (and ignores one that does not match it).
  const bytecode = process.env.CTR_INIT_BYTECODE;
  if (bytecode) writeFile(execRoot, "init.js.jsc", Buffer.from(bytecode, "base64"));
  return { initCommand: [process.execPath, writeScript(execRoot, "init.js", script)], initEnv: { BUN_BE_BUN: "1" } };
}

/** argv prefix of the keeper (--live-restore); the exec root is appended. Its own bundle when compiled. */
export function keeperCommand(execRoot: string): string[] {
  const script = process.env.CTR_KEEPER_BUNDLE || undefined;
  if (!script || !isCompiled()) return [...selfCommand(), "keeper"];
  return [process.execPath, writeScript(execRoot, "keeper.js", script)];
}

function writeScript(execRoot: string, name: string, script: string): string {
  return writeFile(execRoot, name, Buffer.from(script));
}

function writeFile(execRoot: string, name: string, content: Buffer): string {
  const path = join(execRoot, name);
  if (!readOr(path)?.equals(content)) {
    mkdirSync(execRoot, { recursive: true, mode: 0o700 });
    // Written whole and renamed: a process starting meanwhile never reads half a script.
    writeFileSync(`${path}.tmp`, content, { mode: 0o600 });
    renameSync(`${path}.tmp`, path);
  }
  return path;
}

function readOr(path: string): Buffer | null {
  try {
    return readFileSync(path);
  } catch {
    return null;
  }
}
