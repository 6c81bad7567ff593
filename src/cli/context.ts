import { ApiClient } from "../client/client.ts";
import { ensureDaemon } from "../client/autostart.ts";
import { DEFAULT_HOST } from "../hosts.ts";


/** Thrown by a command to end with a given exit status and (optionally) a message. */
export class CliExit extends Error {
  constructor(
    readonly code: number,
    message = "",
  ) {
    super(message);
  }
}

export interface GlobalOptions {
  host?: string;
}

/** What every client command gets: a connected API client, started on demand. */
export class CliContext {
  private cached?: ApiClient;
  constructor(private readonly global: GlobalOptions) {}

  get host(): string {
    return this.global.host ?? process.env.CTR_HOST ?? DEFAULT_HOST;
  }

  async client(): Promise<ApiClient> {
    if (this.cached) return this.cached;
    const client = new ApiClient(this.host);
    // A local socket can be served by a daemon we start; a remote tcp:// host cannot.
    // CTR_ROOT picks its root dir (default /var/lib/ctr), e.g. for a second instance.
    await ensureDaemon(client, { allowed: client.addr.kind === "unix", root: process.env.CTR_ROOT });
    this.cached = client;
    return client;
  }
}

/** cac gives a string for one use of a repeatable option and an array for several. */
export function list(v: unknown): string[] {
  if (v === undefined || v === null || v === false) return [];
  return (Array.isArray(v) ? v : [v]).map(String);
}
