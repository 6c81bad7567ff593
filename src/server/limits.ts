// What one request may cost the daemon. JSON bodies are read whole, so they are
// capped; uploads (archives, image loads, build contexts) stream to disk, so
// they are not, but a body that stops arriving is given up on.

/**
 * The most a JSON body may carry: 2 MiB, the kernel's ARG_MAX for a command and
 * its environment, beyond which no create or exec could run anyway.
 */
export const MAX_JSON_BODY = 2 * 1024 * 1024;

/** How long a request body may stay silent, while the daemon waits for its bytes, before the request is dropped. */
export const READ_IDLE_MS = 60_000;
