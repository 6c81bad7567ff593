// C helpers embedded in the binary as text and compiled at run time by
// bun:ffi's cc (TinyCC inside Bun): no C toolchain on the host. Shared by
// userns-helper.c (userns.ts) and exec-helper.c (exec-spawn.ts).
import { cc, type FFIFunction } from "bun:ffi";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { nativeSyscallNumber } from "./seccomp/compile.ts";
import abi from "./linux-abi.h" with { type: "text" };

/**
 * Compiles linux-abi.h followed by `source` (TinyCC reads a file, so the text
 * goes through a temp file, removed at once).
 */
export function compileEmbedded<S extends Record<string, FFIFunction>>(name: string, source: string, symbols: S) {
  const dir = mkdtempSync(join(tmpdir(), "ctr-cc-"));
  try {
    const path = join(dir, name);
    writeFileSync(path, `${abi}\n#line 1 "${name}"\n${source}`);
    return cc({ source: path, symbols });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** This machine's numbers of `names`, in order, for a helper that makes raw syscalls. */
export function syscallNumbers(names: readonly string[]): BigInt64Array {
  return BigInt64Array.from(
    names.map((n) => {
      const v = nativeSyscallNumber(n);
      if (v === undefined) throw new Error(`no syscall number for ${n} on ${process.arch}`);
      return BigInt(v);
    }),
  );
}
