// Builds dist/ctr: ONE self-contained executable (Bun runtime + our code + deps).
import { $ } from "bun";
import { existsSync } from "node:fs";

const commit = (await $`git rev-parse --short HEAD`.nothrow().quiet().text()).trim() || "unknown";
const built = new Date().toISOString();

// `ctr init` as a bundle of its own (see src/engine/execdriver/init-bundle.ts): the
// daemon runs it with the binary's runtime so a container start skips the CLI's imports.
// With its bytecode (CommonJS: Bun caches bytecode for no other format outside --compile): the
// functions a start runs for the first time (root setup, identity, execve) skip parsing and compiling.
const init = await Bun.build({ entrypoints: ["src/engine/execdriver/init-entry.ts"], target: "bun", minify: true, format: "cjs", bytecode: true } as Parameters<typeof Bun.build>[0]);
if (!init.success) {
  for (const l of init.logs) console.error(l);
  process.exit(1);
}
const initBundle = await init.outputs.find((o) => o.kind !== "bytecode")!.text();
const initBytecode = Buffer.from(await init.outputs.find((o) => o.kind === "bytecode")!.arrayBuffer()).toString("base64");
// The --live-restore keeper, likewise a small bundle of its own (kept out of the init's).
const keeper = await Bun.build({ entrypoints: ["src/engine/execdriver/keeper-entry.ts"], target: "bun", minify: true });
if (!keeper.success) {
  for (const l of keeper.logs) console.error(l);
  process.exit(1);
}
const keeperBundle = await keeper.outputs[0]!.text();

// The client's profile first: its start is the latency that counts (in turns, 40 rounds: --version 6.3 ms,
// ps 9.5 vs 6.6/10.1 daemon-first, 6.5/9.7 without a layout); the daemon's pages are as few either way.
const ORDER = ["scripts/bytecode-order/client.order", "scripts/bytecode-order/daemon.order"];

const result = await Bun.build({
  entrypoints: ["src/cli.ts"],
  // The binary reads no bunfig.toml, .env, tsconfig.json or package.json from the directory it runs in: a
  // daemon or client must not change with its cwd, and looking for them cost every start a walk up the tree.
  // Bytecode laid out by what the daemon and the common commands load (scripts/bytecode-order/record.ts):
  // a process touches ~1 MB of the bundle's pages together instead of pages all over its ~5 MB.
  // JIT tier-up thresholds ×16 from the first instruction (Bun's compile.jitPolicy), the policy the daemon
  // sets for itself once started (cli/daemon.ts): a client command's start is run-once code, and at the
  // normal policy the baseline JIT compiled parts of it on the main thread as it went (`ctr run` reached its
  // create 1.2–1.5 ms later: 9.51 vs 8.00 ms from the runtime's start, 30 in turns). The init and keeper
  // bundles run as `bun` (BUN_BE_BUN) and keep the normal policy.
  compile: {
    outfile: "dist/ctr",
    autoloadBunfig: false,
    autoloadDotenv: false,
    autoloadTsconfig: false,
    autoloadPackageJson: false,
    bytecodeOrder: ORDER.filter((f) => existsSync(f)),
    jitPolicy: 16,
  },
  // Precompiled bytecode: the runtime skips parsing the bundle at every start
  // (the client's `ctr version` went from ~50 ms to ~? ms).
  bytecode: true,
  format: "esm",
  splitting: true,
  minify: true,
  sourcemap: "none",
  define: {
    "process.env.CTR_GIT_COMMIT": JSON.stringify(commit),
    "process.env.CTR_BUILD_TIME": JSON.stringify(built),
    "process.env.CTR_INIT_BUNDLE": JSON.stringify(initBundle),
    "process.env.CTR_INIT_BYTECODE": JSON.stringify(initBytecode),
    "process.env.CTR_KEEPER_BUNDLE": JSON.stringify(keeperBundle),
  },
} as Parameters<typeof Bun.build>[0]);
if (!result.success) {
  for (const l of result.logs) console.error(l);
  process.exit(1);
}
console.log(`built dist/ctr (${commit}, ${built})`);
