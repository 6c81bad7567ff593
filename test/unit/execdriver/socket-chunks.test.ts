import { describe, expect, test } from "bun:test";
import { closeSync, writeSync } from "node:fs";
import { isOpen } from "../../../src/kernel/fds.ts";
import { socketPair } from "../../helpers/socket-pair.ts";
import { ioctl } from "../../../src/kernel/syscalls.ts";
import { socketChunks } from "../../../src/engine/execdriver/socket-chunks.ts";
import { LineReader } from "../../../src/engine/execdriver/lines.ts";
import { until } from "../../helpers/daemon.ts";

const FIONREAD = 0x541b;
/** Bytes waiting in `fd`'s receive queue (the kernel's, not ours). */
const queued = (fd: number) => {
  const b = Buffer.alloc(4);
  ioctl(fd, FIONREAD, b);
  return b.readInt32LE(0);
};

async function collect(it: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const c of it) parts.push(c);
  return Buffer.concat(parts);
}

describe("socketChunks", () => {
  test("a writer's bytes come out complete and in order, then the fd is closed", async () => {
    const [ours, theirs] = socketPair();
    const data = Buffer.alloc(3_000_000);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7) & 0xff;
    // A child writes it (blocking on the socket as a container's command does).
    const child = Bun.spawn(["sh", "-c", "cat"], { stdio: ["pipe", theirs, "inherit"] });
    closeSync(theirs);
    const got = collect(socketChunks(ours));
    child.stdin.write(data);
    await child.stdin.end();
    expect((await got).equals(data)).toBe(true);
    expect(await child.exited).toBe(0);
    await until(() => !isOpen(ours), "the reader closes its fd at the end");
  });

  test("an unread reader leaves the rest in the socket, and reading resumes it", async () => {
    const [ours, theirs] = socketPair();
    const total = 4_000_000;
    const child = Bun.spawn(["sh", "-c", `head -c ${total} /dev/zero`], { stdio: ["ignore", theirs, "inherit"] });
    closeSync(theirs);
    const it = socketChunks(ours);
    const first = await it.next();
    expect(first.done).toBe(false);
    // Not read any further: the bytes must pile up in the kernel's queue, not in the reader.
    await until(() => queued(ours) > 64 * 1024, "the socket fills while nobody reads");
    expect(child.exitCode).toBeNull();
    let n = first.value!.length;
    for await (const c of it) n += c.length;
    expect(n).toBe(total);
    expect(await child.exited).toBe(0);
  });

  test("cancel ends the chunks and closes the fd; the writer sees its peer gone", async () => {
    const [ours, theirs] = socketPair();
    const it = socketChunks(ours);
    writeSync(theirs, "a");
    expect(Buffer.from((await it.next()).value!).toString()).toBe("a");
    it.cancel();
    expect((await it.next()).done).toBe(true);
    await until(() => !isOpen(ours), "cancel closes the fd");
    expect(() => writeSync(theirs, "b")).toThrow(); // EPIPE: nobody holds the other end
    closeSync(theirs);
  });
});

describe("LineReader on a socket", () => {
  test("lines split across writes, a last line without newline, and the caller's fd stays open", async () => {
    const [ours, theirs] = socketPair();
    const lines = new LineReader(ours);
    writeSync(theirs, "rea");
    const first = lines.next();
    writeSync(theirs, "dy\npty 7\nerror 1 no");
    expect(await first).toBe("ready");
    expect(await lines.next()).toBe("pty 7");
    writeSync(theirs, " such file");
    closeSync(theirs);
    expect(await lines.next()).toBe("error 1 no such file");
    expect(await lines.next()).toBeNull();
    expect(isOpen(ours)).toBe(true); // the reader read a duplicate
    closeSync(ours);
  });
});
