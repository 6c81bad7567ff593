#!/usr/bin/env bun
// Entry of the one binary. `init` is dispatched before anything else is
// loaded: it runs inside a new container and must start fast.
export {};
const argv = process.argv.slice(2);

if (argv[0] === "init") {
  const { initMain } = await import("./engine/execdriver/init.ts");
  await initMain(argv.slice(1));
} else if (argv[0] === "keeper") {
  // --live-restore's keeper (hidden), when not run from its own small bundle (init-bundle.ts).
  const { keeperMain } = await import("./engine/execdriver/keeper.ts");
  await keeperMain(argv[1]!);
} else {
  const { main } = await import("./cli/main.ts");
  await main(argv);
}
