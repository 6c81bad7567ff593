import { closeSync, mkdirSync, openSync } from "node:fs";
import { join } from "node:path";
import { selfCommand } from "../self.ts";
import { daemonEnv } from "../jit-tiers.ts";
import type { ApiClient } from "./client.ts";
import { ConnectError } from "./errors.ts";
import { DEFAULT_HOST } from "../hosts.ts";

/**
 * When nothing answers on the socket, we may (see cli/context.ts mayAutostart) and we are root, start
 * `ctr daemon` in the background (its log under the root dir) and wait for
 * it, so `./ctr run …` works on a box where nothing was set up.
 */
export async function ensureDaemon(client: ApiClient, opts: { allowed: boolean; root?: string }): Promise<void> {
  if (await client.ping()) return;
  if (!opts.allowed || process.getuid?.() !== 0) {
    const how = client.host === DEFAULT_HOST ? "ctr daemon" : `ctr daemon -H ${client.host} --root DIR, or set CTR_ROOT=DIR to have it started`;
    throw new ConnectError(`cannot connect to the ctr daemon at ${client.host}. Is the daemon running? (start it with: ${how})`);
  }
  const root = opts.root ?? "/var/lib/ctr";
  mkdirSync(root, { recursive: true, mode: 0o711 });
  const logPath = join(root, "daemon.log");
  const logFd = openSync(logPath, "a");
  const child = Bun.spawn([...selfCommand(), "daemon", "-H", client.host, ...(opts.root ? ["--root", opts.root] : [])], {
    stdio: ["ignore", logFd, logFd],
    // Without the DFG from its first instruction (jit-tiers.ts): no re-execution needed.
    env: daemonEnv(process.env),
  });
  child.unref();
  closeSync(logFd);
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (await client.ping()) return;
    if (child.exitCode !== null) break;
    await Bun.sleep(20);
  }
  throw new ConnectError(`the ctr daemon did not start; see ${logPath}`);
}
