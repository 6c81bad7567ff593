import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureDirs, entryComponents } from "../../../src/store/tar/safe-path.ts";
import { LayerRejectedError } from "../../../src/store/tar/errors.ts";
import { parseWhiteout } from "../../../src/store/tar/whiteout.ts";
import { chainIdOf, chainIdsOf } from "../../../src/store/layers/chain-id.ts";
import { paxRecords } from "../../../src/store/tar/tar-reader.ts";
import { mountFlags } from "../../../src/kernel/mount.ts";

const work = mkdtempSync(join(tmpdir(), "ctr-paths-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("entryComponents", () => {
  test("normalises ./ prefixes, dots and slashes", () => {
    expect(entryComponents("./etc/passwd")).toEqual(["etc", "passwd"]);
    expect(entryComponents("./")).toEqual([]);
    expect(entryComponents("usr//bin/./sh")).toEqual(["usr", "bin", "sh"]);
    expect(entryComponents("dir/")).toEqual(["dir"]);
  });
  test.each(["../x", "a/../b", "a/..", "/etc/passwd", "a\0b"])("refuses %p", (name) => {
    expect(() => entryComponents(name)).toThrow(LayerRejectedError);
  });
});

describe("ensureDirs", () => {
  test("creates missing parents and refuses symlinks and files on the way", () => {
    const root = join(work, "r");
    mkdirSync(root);
    expect(ensureDirs(root, ["a", "b"], "a/b/c")).toBe(join(root, "a/b"));
    symlinkSync("/tmp", join(root, "s"));
    writeFileSync(join(root, "f"), "");
    expect(() => ensureDirs(root, ["s", "x"], "s/x/y")).toThrow("would write through symlink s");
    expect(() => ensureDirs(root, ["f"], "f/y")).toThrow("f is not a directory");
    expect(() => ensureDirs(root, ["nope"], "nope/y", false)).toThrow("no such directory");
  });
});

test("parseWhiteout", () => {
  expect(parseWhiteout(".wh..wh..opq")).toEqual({ kind: "opaque" });
  expect(parseWhiteout(".wh..wh.plnk")).toEqual({ kind: "meta" });
  expect(parseWhiteout(".wh.passwd")).toEqual({ kind: "file", name: "passwd" });
  expect(parseWhiteout("passwd")).toBeNull();
});

test("chain ids follow the OCI image spec", () => {
  const a = `sha256:${"a".repeat(64)}`;
  const b = `sha256:${"b".repeat(64)}`;
  expect(chainIdOf(null, a)).toBe(a);
  const ab = `sha256:${new Bun.CryptoHasher("sha256").update(`${a} ${b}`).digest("hex")}`;
  expect(chainIdOf(a, b)).toBe(ab);
  expect(chainIdsOf([a, b])).toEqual([a, ab]);
});

test("PAX records keep binary xattr values (one char per byte), the rest is UTF-8", () => {
  const v = Buffer.from([0x01, 0x00, 0xff, 0x80]);
  const body = Buffer.concat([Buffer.from(" SCHILY.xattr.security.capability="), v, Buffer.from("\n")]);
  const rec = Buffer.concat([Buffer.from(String(body.length + 2)), body]);
  const path = Buffer.from(" path=\u00e9\n");
  const got = paxRecords(Buffer.concat([rec, Buffer.from(String(path.length + 2)), path]));
  expect(got).toEqual({ "SCHILY.xattr.security.capability": v.toString("latin1"), path: "\u00e9" });
  expect(Buffer.from(got["SCHILY.xattr.security.capability"]!, "latin1")).toEqual(v);
});

test("mountFlags splits MS_ flags from data", () => {
  expect(mountFlags(["rbind", "rw"])).toEqual({ flags: 0x5000, data: "" });
  expect(mountFlags(["ro", "lowerdir=/a:/b", "upperdir=/u"])).toEqual({ flags: 1, data: "lowerdir=/a:/b,upperdir=/u" });
});
