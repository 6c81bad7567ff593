import type { Hijacked } from "../client/client.ts";
import { Demuxer } from "../server/stdcopy.ts";

/**
 * Pumps a hijacked attach/exec conversation: our stdin to the socket (then a
 * half-close, so `cat` ends), the socket to our stdout/stderr — raw with a
 * tty, demultiplexed without. Resolves when the daemon closes the stream,
 * or with `onStatus` at the frame that ends ctr's run conversation: nothing
 * follows it, and the close itself came ~10 ms later on a busy box.
 */
export function pumpAttached(h: Hijacked, o: { tty: boolean; stdin: boolean; onStatus?: (json: string) => void }): Promise<void> {
  const { socket } = h;
  let finished = () => {};
  const write = (stream: number, b: Uint8Array) => {
    // Stream 3 ends ctr's run conversation with the exit status (server/routes/attach-run.ts).
    if (stream === 3 && o.onStatus) {
      o.onStatus(new TextDecoder().decode(b));
      return finished();
    }
    (stream === 2 ? process.stderr : process.stdout).write(b);
  };
  const demux = o.tty ? null : new Demuxer((stream, payload) => write(stream, payload));
  const onData = (d: Uint8Array) => (demux ? demux.push(d) : write(1, d));
  if (h.head.length) onData(h.head);
  socket.on("data", onData);
  socket.resume();
  let restore = () => {};
  if (o.stdin) {
    if (o.tty && process.stdin.isTTY) {
      process.stdin.setRawMode(true);
      restore = () => process.stdin.setRawMode(false);
    }
    process.stdin.on("data", (d: Buffer) => socket.write(d));
    process.stdin.on("end", () => socket.end());
    process.stdin.resume();
  } else {
    socket.end(); // nothing to send: half-close at once, like the docker CLI
  }
  return new Promise((resolve) => {
    const done = (finished = () => {
      restore();
      // Touch process.stdin only when it was used: creating it loads the tty/stream machinery.
      if (o.stdin) {
        process.stdin.pause();
        process.stdin.unref?.();
      }
      resolve();
    });
    socket.once("close", done);
    socket.once("error", done);
  });
}
