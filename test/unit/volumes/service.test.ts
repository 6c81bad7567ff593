import { removeScratch, scratchDir } from "../../helpers/tmp.ts";
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { openDatabase } from "../../../src/store/db.ts";
import { ANONYMOUS_LABEL, VolumeService } from "../../../src/engine/volumes/service.ts";
import { ConflictError, InvalidParameterError, NotFoundError } from "../../../src/engine/errors.ts";

afterAll(removeScratch);

function world() {
  const dir = scratchDir("ctr-vol-");
  const db = openDatabase(join(dir, "ctr.db"));
  const events: string[] = [];
  const v = new VolumeService(db, join(dir, "volumes"), { publish: (e) => events.push(`${e.Action}:${e.Actor.ID}`) });
  mkdirSync(join(dir, "volumes"));
  return { v, dir, db, events };
}

describe("volumes", () => {
  test("create, inspect, list, remove", () => {
    const { v, events } = world();
    const vol = v.create({ Name: "data", Labels: { a: "b" } });
    expect(vol).toMatchObject({ Name: "data", Driver: "local", Scope: "local", Labels: { a: "b" }, Options: null });
    expect(existsSync(vol.Mountpoint)).toBe(true);
    expect(v.create({ Name: "data" }).Name).toBe("data");
    expect(v.list().map((x) => x.Name)).toEqual(["data"]);
    expect(v.list({ label: ["a=b"] }).length).toBe(1);
    expect(v.list({ label: ["a=c"] }).length).toBe(0);
    v.remove("data", false);
    expect(existsSync(vol.Mountpoint)).toBe(false);
    expect(() => v.get("data")).toThrow(NotFoundError);
    expect(events).toEqual(["create:data", "destroy:data"]);
  });

  test("in-use volumes are refused, dangling filter and prune follow use", () => {
    const { v } = world();
    v.create({ Name: "used" });
    v.create({ Name: "anon", anonymous: true });
    v.use("used", "c1");
    expect(() => v.remove("used", false)).toThrow(ConflictError);
    expect(v.list({ dangling: ["true"] }).map((x) => x.Name)).toEqual(["anon"]);
    expect(v.prune().VolumesDeleted).toEqual(["anon"]);
    v.release("c1", false);
    expect(v.prune({}, true).VolumesDeleted).toEqual(["used"]);
  });

  test("anonymous volumes go with their container on rm -v", () => {
    const { v } = world();
    v.create({ Name: "anon2", anonymous: true });
    v.create({ Name: "named" });
    v.use("anon2", "c2");
    v.use("named", "c2");
    v.release("c2", true);
    expect(v.list().map((x) => x.Name)).toEqual(["named"]);
  });

  test("bad names and drivers are refused", () => {
    const { v } = world();
    expect(() => v.create({ Name: "../x" })).toThrow(InvalidParameterError);
    expect(() => v.create({ Name: "ok1", Driver: "nfs-plugin" })).toThrow(NotFoundError);
  });

  test("driver options are checked as the local driver does", () => {
    const { v } = world();
    expect(() => v.create({ Name: "o1", DriverOpts: { size: "1" } })).toThrow('create o1: invalid option: "size"');
    expect(() => v.create({ Name: "o2", DriverOpts: { type: "tmpfs" } })).toThrow('missing required option: "device"');
    expect(() => v.create({ Name: "o3", DriverOpts: { o: "size=1m", device: "tmpfs" } })).toThrow('missing required option: "type"');
    const ok = v.create({ Name: "o4", DriverOpts: { type: "tmpfs", device: "tmpfs", o: "size=1m" } });
    expect(ok.Options).toEqual({ type: "tmpfs", device: "tmpfs", o: "size=1m" });
  });

  test("anonymous volumes carry Docker's anonymous label; prune reports the bytes it freed", () => {
    const { v } = world();
    const a = v.create({ Name: "anon3", anonymous: true });
    expect(a.Labels).toEqual({ [ANONYMOUS_LABEL]: "" });
    writeFileSync(join(a.Mountpoint, "f"), "x".repeat(1000));
    v.create({ Name: "kept" });
    expect(v.prune()).toEqual({ VolumesDeleted: ["anon3"], SpaceReclaimed: 1000 });
    expect(v.list().map((x) => x.Name)).toEqual(["kept"]);
  });

  test("references of containers that no longer exist are forgotten at start", () => {
    const { v } = world();
    v.create({ Name: "held" });
    v.create({ Name: "ghost", anonymous: true });
    v.use("held", "live1");
    v.use("held", "gone1");
    v.use("ghost", "gone1");
    v.forgetUsersExcept(new Set(["live1"]));
    expect(v.users("held")).toEqual(["live1"]);
    expect(v.find("ghost")).toBeNull();
  });

  test("a 255-character name works, as with dockerd's local driver", () => {
    const { v } = world();
    const name = "a".repeat(255);
    expect(v.create({ Name: name }).Name).toBe(name);
    expect(existsSync(v.mountpoint(name))).toBe(true);
  });

  test("a row stored before the API checked its input (non-string labels, labels nested 10,000 deep) still lists", () => {
    const { v, db } = world();
    v.create({ Name: "good" });
    const deep = `{"ok":"v","n":1,"deep":${"[".repeat(10_000)}${"]".repeat(10_000)}}`;
    db.query("INSERT INTO volumes (name, driver, labels, options, anonymous, created_at) VALUES ('old', 'local', ?, ?, 0, '2026-01-01T00:00:00Z')").run(deep, '{"o":{"x":1}}');
    const listed = v.list();
    expect(listed.map((x) => x.Name).sort()).toEqual(["good", "old"]);
    expect(listed.find((x) => x.Name === "old")).toMatchObject({ Labels: { ok: "v" }, Options: null });
    expect(() => JSON.stringify(listed)).not.toThrow();
  });
});
