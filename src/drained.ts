// Back-pressure that cannot hang: a writable's "drain" never comes once it is
// closed or destroyed (a client gone, a stream torn down), so every wait for
// it also ends at "close".

/** What a node Writable (or socket, or duplex) offers for the wait. */
interface Drainable {
  on(event: "drain" | "close", fn: () => void): unknown;
  off(event: "drain" | "close", fn: () => void): unknown;
}

/** Resolves at the next "drain" of `w`, or at its "close". */
export function drainedOrClosed(w: Drainable): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      w.off("drain", done);
      w.off("close", done);
      resolve();
    };
    w.on("drain", done);
    w.on("close", done);
  });
}
