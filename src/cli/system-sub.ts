import type { CliContext } from "./context.ts";
import { CliExit } from "./context.ts";

/** `ctr system <sub>` subcommands other than info. */
export async function systemSub(_ctx: CliContext, sub: string): Promise<void> {
  throw new CliExit(1, `unknown system command: ${sub}`);
}
