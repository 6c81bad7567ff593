// dockerode's streams read back in tests: a multiplexed (stdout, stderr) pair split by the
// client's own demuxStream, as an application using dockerode would.
import { PassThrough, type Readable } from "node:stream";
import type Docker from "dockerode";

/** Collects a demultiplexed (stdout, stderr) pair from a Docker stream until it ends. */
export function demux(docker: Docker, stream: Readable): { out: PassThrough; err: PassThrough; text: () => { stdout: string; stderr: string } } {
  const out = new PassThrough();
  const err = new PassThrough();
  const o: Buffer[] = [];
  const e: Buffer[] = [];
  out.on("data", (b: Buffer) => o.push(b));
  err.on("data", (b: Buffer) => e.push(b));
  docker.modem.demuxStream(stream, out, err);
  return { out, err, text: () => ({ stdout: Buffer.concat(o).toString(), stderr: Buffer.concat(e).toString() }) };
}
