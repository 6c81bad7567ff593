// A stand-alone entry for the keeper (`bun build --target=bun`), embedded in
// the binary like the init bundle (init-bundle.ts): the keeper's code stays
// out of the init every container start loads. Argument: the exec root.
import { keeperMain } from "./keeper.ts";

await keeperMain(process.argv[2]!);
