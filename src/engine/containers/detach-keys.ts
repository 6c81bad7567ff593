// Detach keys: a byte sequence on an attached terminal's stdin that ends the
// attach (or exec session) and leaves the process running. dockerd watches for
// it only when the session has a TTY (container/stream/attach.go copyEscapable);
// the default is Ctrl-P Ctrl-Q; the sequence itself never reaches the process.
import { InvalidParameterError } from "../errors.ts";

export const DEFAULT_DETACH_KEYS = "ctrl-p,ctrl-q";

/**
 * moby's term.ToBytes: comma-separated keys, each one character or ctrl-<c>
 * with c in a-z, @, [, \, ], ^, _. Null when the spec is not valid.
 */
export function parseDetachKeys(spec: string): Uint8Array | null {
  const out: number[] = [];
  for (const raw of spec.split(",")) {
    const key = raw.trim();
    if (key.length > 1 && key.startsWith("ctrl-")) {
      const c = key.slice(5);
      if (c.length !== 1) return null;
      const code = c.toLowerCase().charCodeAt(0);
      if (code >= 0x61 && code <= 0x7a) out.push(code - 0x60);
      else if ("@[\\]^_".includes(c)) out.push(c.charCodeAt(0) - 0x40);
      else return null;
    } else if (key.length === 1) out.push(key.charCodeAt(0));
    else return null;
  }
  return new Uint8Array(out);
}

/** The keys to watch for: the given spec, else the default; dockerd's messages for a bad one. */
export function detachKeysOrThrow(spec: string | undefined, message: (s: string) => string): Uint8Array {
  const keys = parseDetachKeys(spec || DEFAULT_DETACH_KEYS);
  if (!keys) throw new InvalidParameterError(message(spec!));
  return keys;
}

/**
 * moby's EscapeProxy over a byte stream: bytes pass through, except that a
 * possible start of the sequence is held back until it either completes (then
 * `detached` is set and nothing more passes) or turns out to be something else
 * (then the held bytes pass after all).
 */
export class DetachWatcher {
  private matched = 0;
  detached = false;

  constructor(private readonly keys: Uint8Array) {}

  /** The bytes to forward from `chunk`. */
  feed(chunk: Uint8Array): Uint8Array {
    if (this.detached || this.keys.length === 0) return this.detached ? new Uint8Array(0) : chunk;
    const out: number[] = [];
    for (const b of chunk) {
      if (b === this.keys[this.matched]) {
        this.matched++;
        if (this.matched === this.keys.length) {
          this.detached = true;
          break;
        }
        continue;
      }
      // A mismatch: what was held was ordinary input; this byte may start a new match.
      for (let i = 0; i < this.matched; i++) out.push(this.keys[i]!);
      this.matched = 0;
      if (b === this.keys[0]) this.matched = 1;
      else out.push(b);
    }
    return new Uint8Array(out);
  }
}
