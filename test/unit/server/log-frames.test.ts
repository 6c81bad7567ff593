import { expect, test } from "bun:test";
import { logFrames } from "../../../src/server/log-frames.ts";
import { Demuxer } from "../../../src/server/stdcopy.ts";

const collect = () => {
  const blocks: Uint8Array[] = [];
  return { blocks, write: (b: Uint8Array) => void blocks.push(b) };
};

test("lines are framed into blocks that demux back to the same lines, multibyte text included", async () => {
  const { blocks, write } = collect();
  const out = logFrames(write, false, 1024);
  const lines = Array.from({ length: 500 }, (_, i) => (i % 7 === 0 ? `zeile ${i} – größer 😀\n` : `line ${i}\n`));
  for (const [i, l] of lines.entries()) out.push(i % 3 ? 1 : 2, l, i % 5 ? "" : "2026-01-01T00:00:00Z ");
  out.flush();
  // Blocks, not a chunk per line: each about the block size.
  expect(blocks.length).toBeGreaterThan(5);
  expect(blocks.length).toBeLessThan(lines.length / 10);
  const got: string[] = [];
  const d = new Demuxer((s, p) => got.push(`${s}:${Buffer.from(p).toString()}`));
  for (const b of blocks) d.push(b);
  expect(got).toEqual(lines.map((l, i) => `${i % 3 ? 1 : 2}:${i % 5 ? "" : "2026-01-01T00:00:00Z "}${l}`));
});

test("with a TTY the text goes unframed; a line longer than a block gets a block of its own", () => {
  const { blocks, write } = collect();
  const out = logFrames(write, true, 64);
  const long = "x".repeat(300) + "\n";
  out.push(1, "a\n");
  out.push(1, long);
  out.push(2, "b\n");
  out.flush();
  expect(Buffer.concat(blocks).toString()).toBe(`a\n${long}b\n`);
});

test("a partial block leaves at the next turn of the event loop (a follower sees the last line)", async () => {
  const { blocks, write } = collect();
  const out = logFrames(write, false);
  out.push(1, "only\n");
  expect(blocks.length).toBe(0);
  await new Promise((ok) => setImmediate(ok));
  await new Promise((ok) => setImmediate(ok));
  expect(blocks.length).toBe(1);
  expect(Buffer.from(blocks[0]!.subarray(8)).toString()).toBe("only\n");
});

test("the reader's backpressure promise comes back from push", async () => {
  let release!: () => void;
  const gate = new Promise<void>((ok) => (release = ok));
  const out = logFrames(() => gate, false, 16);
  const p = out.push(1, "a line that fills the block\n");
  expect(p).toBe(gate);
  release();
  await p;
});
