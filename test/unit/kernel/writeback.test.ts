// startWriteback: sync_file_range(2) asks the disk to take a file's dirty pages; advisory.
import { expect, test } from "bun:test";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startWriteback } from "../../../src/kernel/fs-ffi.ts";

test("a regular file's pages are handed to the disk (the bytes stay as written); a bad descriptor is a false, not a throw", () => {
  const dir = mkdtempSync(join(tmpdir(), "ctr-writeback-"));
  try {
    const path = join(dir, "f");
    const fd = openSync(path, "w");
    const bytes = Buffer.alloc(1 << 20, 7);
    writeSync(fd, bytes);
    expect(startWriteback(fd)).toBe(true);
    closeSync(fd);
    expect(readFileSync(path).equals(bytes)).toBe(true);
    expect(startWriteback(fd)).toBe(false); // closed now: EBADF, no throw
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
