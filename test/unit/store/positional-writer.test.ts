// PositionalWriter tells each chunk's writer when the chunk's bytes are on the file.
import { afterEach, expect, test } from "bun:test";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { IN_FLIGHT, PositionalWriter } from "../../../src/store/positional-writer.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

test("written() runs for every chunk once its bytes are in the file", async () => {
  const d = mkdtempSync(join(tmpdir(), "ctr-pw-"));
  dirs.push(d);
  const path = join(d, "f");
  const fd = openSync(path, "w");
  const w = new PositionalWriter(fd);
  const chunks = Array.from({ length: 20 }, (_, i) => new Uint8Array(50_000).fill(i));
  const seen: number[] = [];
  for (const [i, c] of chunks.entries()) {
    await w.write(c, () => {
      // The file holds this chunk's bytes by now (pwrite of the same fd, read back).
      const onDisk = readFileSync(path).subarray(i * 50_000, (i + 1) * 50_000);
      expect(Buffer.from(onDisk).equals(Buffer.from(c))).toBe(true);
      seen.push(i);
    });
  }
  await w.write(new Uint8Array(0), () => seen.push(-1));
  await w.flush();
  closeSync(fd);
  expect(seen.sort((a, b) => a - b)).toEqual([-1, ...chunks.keys()]);
  expect(readFileSync(path).byteLength).toBe(20 * 50_000);
});

test("write() returns only while at most IN_FLIGHT bytes are queued", async () => {
  const d = mkdtempSync(join(tmpdir(), "ctr-pw-"));
  dirs.push(d);
  const fd = openSync(join(d, "f"), "w");
  const w = new PositionalWriter(fd);
  let most = 0;
  for (let i = 0; i < 40; i++) {
    await w.write(new Uint8Array(256 << 10).fill(i));
    most = Math.max(most, w.queued);
    expect(w.queued).toBeLessThanOrEqual(IN_FLIGHT);
  }
  await w.flush();
  closeSync(fd);
  expect(w.queued).toBe(0);
  expect(most).toBeGreaterThan(0);
  expect(readFileSync(join(d, "f")).byteLength).toBe(40 * (256 << 10));
});
