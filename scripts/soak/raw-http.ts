// HTTP/1.1 on the daemon's unix socket by hand (node:net), so a soak client can
// do what real clients do and fetch() hides: stop reading, pause, or vanish
// in the middle of a stream or a hijacked attach/exec.
import net from "node:net";

export interface RawResponse {
  socket: net.Socket;
  status: number;
  /** Body bytes (or raw-stream bytes after a 101) that came with the head. */
  rest: Buffer;
}

export interface RawRequest {
  method: string;
  path: string;
  body?: unknown;
  /** Ask for a 101 (attach, exec start), as the docker CLI does. */
  upgrade?: boolean;
}

/** Sends one request on a fresh connection and resolves after the response head. */
export function rawRequest(sock: string, r: RawRequest, timeoutMs = 30_000): Promise<RawResponse> {
  const payload = r.body === undefined ? "" : JSON.stringify(r.body);
  const head = [
    `${r.method} ${r.path} HTTP/1.1`,
    "Host: localhost",
    ...(r.upgrade ? ["Connection: Upgrade", "Upgrade: tcp"] : []),
    ...(r.body === undefined ? [] : ["Content-Type: application/json"]),
    `Content-Length: ${Buffer.byteLength(payload)}`,
    "",
    "",
  ].join("\r\n");
  return new Promise((resolve, reject) => {
    const socket = net.connect(sock);
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => fail(new Error(`${r.method} ${r.path}: no response head in ${timeoutMs} ms`)), timeoutMs);
    const fail = (e: Error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(e);
    };
    const onData = (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      const end = buf.indexOf("\r\n\r\n");
      if (end < 0) return;
      clearTimeout(timer);
      socket.off("data", onData);
      socket.pause();
      const status = Number(/^HTTP\/1\.1 (\d+)/.exec(buf.subarray(0, end).toString())?.[1] ?? 0);
      resolve({ socket, status, rest: buf.subarray(end + 4) });
    };
    socket.on("data", onData);
    socket.once("error", fail);
    socket.once("close", () => fail(new Error(`${r.method} ${r.path}: connection closed before the head`)));
    socket.write(head + payload);
  });
}

/** Reads until `n` bytes arrived (or the stream ended), then leaves the socket paused. */
export function readSome(res: RawResponse, n: number, timeoutMs = 20_000): Promise<number> {
  let got = res.rest.length;
  if (got >= n) return Promise.resolve(got);
  return new Promise((resolve) => {
    const s = res.socket;
    const done = () => {
      clearTimeout(timer);
      s.off("data", onData);
      s.off("end", done);
      s.off("close", done);
      s.pause();
      resolve(got);
    };
    const onData = (d: Buffer) => {
      got += d.length;
      if (got >= n) done();
    };
    const timer = setTimeout(done, timeoutMs);
    s.on("data", onData);
    s.once("end", done);
    s.once("close", done);
    s.resume();
  });
}

/** Reads to the end of the stream; resolves with the byte count. */
export function readAll(res: RawResponse, timeoutMs = 60_000): Promise<number> {
  return readSome(res, Number.POSITIVE_INFINITY, timeoutMs);
}
