// --userns-remap resolution (dockerd's parseRemappedRoot / LoadIdentityMapping) on fake id files,
// the split into the shared map and the --userns=auto pool, and the pool's bookkeeping in SQLite.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { nextRangeStart, parseRemapSpec, parseSubIds, setupRemap, splitRanges, type IdFiles } from "../../../src/engine/security/userns-remap.ts";
import { UsernsRanges } from "../../../src/engine/security/userns-ranges.ts";
import { openDatabase } from "../../../src/store/db.ts";

const dir = mkdtempSync(join(tmpdir(), "ctr-userns-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const files: IdFiles = { passwd: join(dir, "passwd"), group: join(dir, "group"), subuid: join(dir, "subuid"), subgid: join(dir, "subgid") };
writeFileSync(files.passwd, "root:x:0:0::/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\nbob:x:1001:1001::/home/bob:/bin/sh\nctremap:x:999:995::/:/bin/false\n");
writeFileSync(files.group, "root:x:0:\nalice:x:1000:\nstaff:x:50:\nctremap:x:995:\n");
writeFileSync(files.subuid, "# comment\nalice:100000:65536\n1001:300000:65536\nctremap:400000:196608\n");
writeFileSync(files.subgid, "alice:100000:65536\nctremap:400000:196608\n");

describe("--userns-remap", () => {
  test("names, numbers, default and dockerd's errors", () => {
    expect(parseRemapSpec("alice", files)).toEqual({ user: "alice", group: "alice" });
    expect(parseRemapSpec("1000", files)).toEqual({ user: "alice", group: "alice" });
    expect(parseRemapSpec("alice:staff", files)).toEqual({ user: "alice", group: "staff" });
    expect(parseRemapSpec("alice:50", files)).toEqual({ user: "alice", group: "staff" });
    expect(parseRemapSpec("default", files)).toEqual({ user: "ctremap", group: "ctremap" });
    expect(() => parseRemapSpec("a:b:c", files)).toThrow('Invalid user/group specification in --userns-remap: "a:b:c"');
    expect(() => parseRemapSpec("carol", files)).toThrow('Error during uid lookup for "carol"');
    expect(() => parseRemapSpec("1001", files)).toThrow("Gid 1001 has no entry in /etc/group");
    expect(() => parseRemapSpec("alice:nogroup", files)).toThrow('Error during groupname lookup for "nogroup"');
  });

  test("subordinate ranges by name or uid; a free start past every range", () => {
    expect(parseSubIds("alice:100000:65536\n1001:300000:65536\n", "bob", 1001)).toEqual([{ start: 300000, count: 65536 }]);
    expect(nextRangeStart([], 65536)).toBe(100000);
    expect(nextRangeStart([{ start: 100000, count: 65536 }, { start: 165536, count: 10 }], 65536)).toBe(165546);
    expect(nextRangeStart([{ start: 500000, count: 65536 }], 65536)).toBe(100000);
  });

  test("the first 65536 ids are shared, the rest are the auto pool in blocks of 65536", () => {
    expect(splitRanges([{ start: 400000, count: 196608 }])).toEqual({
      shared: [{ containerID: 0, hostID: 400000, size: 65536 }],
      pool: [
        { containerID: 0, hostID: 465536, size: 65536 },
        { containerID: 0, hostID: 531072, size: 65536 },
      ],
    });
    // Two short lines make one map of 65536 together.
    expect(splitRanges([{ start: 1000, count: 30000 }, { start: 90000, count: 35536 }]).shared).toEqual([
      { containerID: 0, hostID: 1000, size: 30000 },
      { containerID: 30000, hostID: 90000, size: 35536 },
    ]);
    const r = setupRemap("default", files)!;
    expect(r.name).toBe("ctremap:ctremap");
    expect(r.uidMap).toEqual([{ containerID: 0, hostID: 400000, size: 65536 }]);
    expect(r.autoUids.length).toBe(2);
    expect(setupRemap(undefined, files)).toBeNull();
    expect(() => setupRemap("1001:0", files)).toThrow('No subgid ranges found for group "root"');
  });

  test("--userns=auto blocks: distinct, recorded, freed with the container row", () => {
    const db = openDatabase(":memory:");
    const remap = setupRemap("default", files)!;
    const ranges = new UsernsRanges(db);
    const row = (id: string) =>
      db.query("INSERT INTO containers (id, name, image_id, image_ref, config, host_config, state, created) VALUES (?, ?, '', '', '{}', '{}', '{}', '')").run(id, id);
    row("a");
    row("b");
    row("c");
    const a = ranges.allocate("a", remap);
    const b = ranges.allocate("b", remap);
    expect(a.uidMap[0]!.hostID).toBe(465536);
    expect(b.uidMap[0]!.hostID).toBe(531072);
    expect(() => ranges.allocate("c", remap)).toThrow("no free range for --userns=auto");
    expect(ranges.get("a")).toEqual(a);
    db.query("DELETE FROM containers WHERE id = 'a'").run();
    expect(ranges.get("a")).toBeNull();
    expect(ranges.allocate("c", remap)).toEqual(a);
  });
});
