import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { lookPath, resolveUser } from "../../../src/engine/execdriver/identity.ts";
import { parseStatus, errorLine } from "../../../src/engine/execdriver/protocol.ts";
import { secureJoin } from "../../../src/engine/execdriver/rootfs.ts";
import { symlinkSync, mkdirSync } from "node:fs";

const dir = mkdtempSync(join(tmpdir(), "ctr-identity-unit-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const passwd = join(dir, "passwd");
const group = join(dir, "group");
writeFileSync(passwd, "root:x:0:0:root:/root:/bin/sh\n# comment\nwww:x:33:33:www:/var/www:/bin/false\nnobody:x:65534:65534::/nonexistent:/bin/false\n");
writeFileSync(group, "root:x:0:\nwww:x:33:\nadm:x:4:www,other\nstaff:x:50:www\nnogroup:x:65534:\n");

describe("resolveUser (the container's /etc/passwd and /etc/group)", () => {
  test("empty means root with root's home", () => {
    expect(resolveUser("", passwd, group)).toEqual({ uid: 0, gid: 0, groups: [0], home: "/root" });
  });
  test("a name brings its gid, home and supplementary groups", () => {
    expect(resolveUser("www", passwd, group)).toEqual({ uid: 33, gid: 33, groups: [33, 4, 50], home: "/var/www" });
  });
  test("a numeric uid found in passwd is that user", () => {
    expect(resolveUser("33", passwd, group).home).toBe("/var/www");
  });
  test("numeric ids work without entries", () => {
    expect(resolveUser("1000:1000", passwd, group)).toEqual({ uid: 1000, gid: 1000, groups: [1000], home: "/" });
    expect(resolveUser("1000", "/nonexistent/passwd", "/nonexistent/group")).toEqual({ uid: 1000, gid: 0, groups: [0], home: "/" });
  });
  test("name:group overrides the primary group", () => {
    expect(resolveUser("www:nogroup", passwd, group).gid).toBe(65534);
  });
  test("unknown names fail with Docker's wording", () => {
    expect(() => resolveUser("ghost", passwd, group)).toThrow("unable to find user ghost: no matching entries in passwd file");
    expect(() => resolveUser("www:ghosts", passwd, group)).toThrow("unable to find group ghosts: no matching entries in group file");
  });
});

describe("lookPath", () => {
  const have = new Set(["/usr/bin/env", "/bin/sh"]);
  const exists = (p: string) => have.has(p);
  test("searches PATH in order, default PATH when unset", () => {
    expect(lookPath("sh", ["PATH=/usr/bin:/bin"], exists)).toBe("/bin/sh");
    expect(lookPath("env", [], exists)).toBe("/usr/bin/env");
    expect(lookPath("nope", ["PATH=/bin"], exists)).toBeNull();
  });
  test("a name with a slash is taken as is", () => {
    expect(lookPath("./run.sh", [], exists)).toBe("./run.sh");
  });
});

describe("status lines", () => {
  test("parse and format", () => {
    expect(parseStatus("ready")).toEqual({ type: "ready" });
    expect(parseStatus("pty 7")).toEqual({ type: "pty", fd: 7 });
    expect(parseStatus(errorLine(127, 'exec: "x": not found\nmore'))).toEqual({ type: "error", code: 127, message: 'exec: "x": not found more' });
    expect(parseStatus("what")).toEqual({ type: "unknown", line: "what" });
  });
});

describe("secureJoin", () => {
  const root = join(dir, "root");
  mkdirSync(join(root, "etc"), { recursive: true });
  symlinkSync("/etc", join(root, "abs"));
  symlinkSync("../../../..", join(root, "up"));
  test("absolute and climbing symlinks stay inside the root", () => {
    expect(secureJoin(root, "/abs/hosts")).toBe(join(root, "etc/hosts"));
    expect(secureJoin(root, "/up/etc/passwd")).toBe(join(root, "etc/passwd"));
    expect(secureJoin(root, "/../../etc")).toBe(join(root, "etc"));
    expect(secureJoin(root, "/missing/a/b")).toBe(join(root, "missing/a/b"));
  });
});
