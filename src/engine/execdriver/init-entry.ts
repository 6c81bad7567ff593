// A stand-alone entry for `ctr init`, for building a small separate bundle
// (`bun build --target=bun src/engine/execdriver/init-entry.ts`): the full
// CLI bundle loads node:http, tls, zlib… eagerly (~50 ms per container start
// in the compiled binary); this one loads only fs, path, os and bun:ffi
// (~10 ms). The compiled binary can run it with BUN_BE_BUN=1:
//   ExecDriver({ initCommand: [process.execPath, "/run/ctr/init.js"], initEnv: { BUN_BE_BUN: "1" } })
// Not awaited: the bundle is CommonJS (for its bytecode, scripts/build.ts), and
// initMain ends the process itself.
import { initMain } from "./init.ts";

void initMain(process.argv.slice(2));
