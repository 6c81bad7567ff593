// Reading ctr's one-request conversations (a create or exec create that
// answers with a 101) in tests.
import type { Hijacked, PlainAnswer } from "../../src/client/client.ts";

/** Everything the daemon sends until it closes the stream (our side's write end closed first). */
export function readAll(h: Hijacked): Promise<Buffer> {
  const parts: Buffer[] = [Buffer.from(h.head)];
  return new Promise((resolve) => {
    h.socket.on("data", (d) => parts.push(Buffer.from(d)));
    h.socket.once("close", () => resolve(Buffer.concat(parts)));
    h.socket.resume();
    h.socket.end();
  });
}

/** The answer as a switched stream; fails the test when the daemon answered plainly. */
export const hijacked = (r: Hijacked | PlainAnswer): Hijacked => {
  if (!("socket" in r)) throw new Error(`expected a 101, got ${r.status}: ${r.body}`);
  return r;
};

/** The answer as a plain one; fails the test when the daemon switched. */
export const plainAnswer = (r: Hijacked | PlainAnswer): PlainAnswer => {
  if ("socket" in r) throw new Error("expected a plain answer, got a 101");
  return r;
};
