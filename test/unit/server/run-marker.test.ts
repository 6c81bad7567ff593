import { afterAll, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { clearMarker, markerPath, takeOverMarker } from "../../../src/server/run-marker.ts";
import { removeScratch, scratchDir } from "../../helpers/tmp.ts";

afterAll(removeScratch);

test("a daemon that never cleared its marker is reported once, with where its log went", () => {
  const root = scratchDir("ctr-marker-");
  expect(takeOverMarker(root, { pid: 111, startedAt: "2026-01-01T00:00:00.000Z", log: "/var/lib/ctr/daemon.log" })).toBeNull();
  // 111 died without clearing: the next start says so.
  expect(takeOverMarker(root, { pid: 222, startedAt: "2026-01-02T00:00:00.000Z", log: null })).toBe(
    "the previous daemon (pid 111, started 2026-01-01T00:00:00.000Z) did not shut down cleanly; its log (and any crash report at its end): /var/lib/ctr/daemon.log",
  );
  expect(takeOverMarker(root, { pid: 333, startedAt: "2026-01-03T00:00:00.000Z", log: null })).toContain("pid 222");
  expect(takeOverMarker(root, { pid: 444, startedAt: "x", log: null })).toContain("its stderr was not a file");
  clearMarker(root);
  expect(existsSync(markerPath(root))).toBe(false);
  // A clean shutdown leaves nothing to report.
  expect(takeOverMarker(root, { pid: 555, startedAt: "x", log: null })).toBeNull();
});
