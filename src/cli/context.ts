import { ApiClient } from "../client/client.ts";
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

  /** The client; a daemon is started (or the error shown) only when its first connection is refused. */
  async client(): Promise<ApiClient> {
    if (this.cached) return this.cached;
    const client = new ApiClient(this.host);
    const opts = { allowed: mayAutostart(this.host, process.env.CTR_ROOT), root: process.env.CTR_ROOT };
    // Loaded only when nobody answered: it brings node:fs (~1 ms of every command's start, issue 16).
    this.cached = client.onUnreachable(async () => (await import("../client/autostart.ts")).ensureDaemon(client, opts));
    return this.cached;
  }
}

/**
 * A daemon we start serves the default socket on the default root, or any
 * local socket when CTR_ROOT says which root it owns. Never another socket on
 * the default root: `-H unix:///other.sock` with no daemon there would start a
 * second engine over the state of the first one (or of nobody the user meant).
 * A remote tcp:// host is never ours to start.
 */
export function mayAutostart(host: string, root: string | undefined): boolean {
  if (!host.startsWith("unix://") && !host.startsWith("/")) return false;
  return host === DEFAULT_HOST || !!root;
}

/** The parser gives a string for one use of a repeatable option and an array for several. */
export function list(v: unknown): string[] {
  if (v === undefined || v === null || v === false) return [];
  return (Array.isArray(v) ? v : [v]).map(String);
}
