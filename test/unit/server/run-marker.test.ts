import { afterAll, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { clearMarker, markerPath, previousDeath, writeMarker } from "../../../src/server/run-marker.ts";
import { removeScratch, scratchDir } from "../../helpers/tmp.ts";

afterAll(removeScratch);

test("a daemon that never cleared its marker is reported, with where its log went, until a start succeeds", () => {
  const root = scratchDir("ctr-marker-");
  expect(previousDeath(root)).toBeNull();
  writeMarker(root, { pid: 111, startedAt: "2026-01-01T00:00:00.000Z", log: "/var/lib/ctr/daemon.log" });
  // 111 died without clearing: every start says so (a failed one writes no marker of its own)...
  const said = "the previous daemon (pid 111, started 2026-01-01T00:00:00.000Z) did not shut down cleanly; its log (and any crash report at its end): /var/lib/ctr/daemon.log";
  expect(previousDeath(root)).toBe(said);
  expect(previousDeath(root)).toBe(said);
  // ...until one is up and writes its own.
  writeMarker(root, { pid: 222, startedAt: "x", log: null });
  expect(previousDeath(root)).toContain("pid 222");
  expect(previousDeath(root)).toContain("its stderr was not a file");
  // A clean shutdown leaves nothing to report.
  clearMarker(root);
  expect(existsSync(markerPath(root))).toBe(false);
  expect(previousDeath(root)).toBeNull();
});
