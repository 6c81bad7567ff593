import { describe, expect, test } from "bun:test";
import { controlFrame, dataFrame, FrameReader, FrameWriter } from "../../../src/engine/execdriver/keeper-wire.ts";

describe("keeper wire", () => {
  test("control and data frames come out whole and in order, whatever the chunking", () => {
    const frames = [controlFrame({ op: "hello" }), dataFrame(77, 1, Buffer.from([0xff, 0x00, 0x0a])), controlFrame({ op: "exit", pid: 77, exitCode: 7 }), dataFrame(78, 2, Buffer.alloc(0))];
    const all = Buffer.concat(frames);
    for (const size of [1, 2, 3, 7, all.length]) {
      const got: unknown[] = [];
      const r = new FrameReader({ control: (m) => got.push(m), data: (pid, stream, d) => got.push({ pid, stream, d: [...d] }) });
      for (let i = 0; i < all.length; i += size) r.push(all.subarray(i, i + size));
      expect(got).toEqual([{ op: "hello" }, { pid: 77, stream: 1, d: [0xff, 0x00, 0x0a] }, { op: "exit", pid: 77, exitCode: 7 }, { pid: 78, stream: 2, d: [] }]);
    }
  });

  test("what the socket does not take is queued and written on drain, in order", () => {
    const written: number[] = [];
    let room = 3;
    const w = new FrameWriter({
      write: (b) => {
        const n = Math.min(room, b.length);
        written.push(...b.subarray(0, n));
        room -= n;
        return n;
      },
      end: () => {},
    });
    w.send(Uint8Array.from([1, 2, 3, 4, 5]));
    w.send(Uint8Array.from([6, 7]));
    expect(written).toEqual([1, 2, 3]);
    expect(w.pending).toBe(2);
    expect(w.pendingBytes).toBe(4);
    room = 100;
    w.drain();
    expect(written).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(w.pending).toBe(0);
    expect(w.pendingBytes).toBe(0);
  });
});
