// Cases from distribution/reference's normalize_test.go and reference_test.go.
import { describe, expect, test } from "bun:test";
import { familiarName, familiarString, parseNormalized, parseReference, parseUserRef, refString } from "../../../src/engine/distribution/reference.ts";

describe("parseNormalized", () => {
  const ok: [string, string, string][] = [
    ["busybox", "docker.io/library/busybox", "busybox"],
    ["busybox:latest", "docker.io/library/busybox:latest", "busybox:latest"],
    ["library/busybox", "docker.io/library/busybox", "busybox"],
    ["docker.io/busybox", "docker.io/library/busybox", "busybox"],
    ["index.docker.io/library/busybox:1.36", "docker.io/library/busybox:1.36", "busybox:1.36"],
    ["dmcgowan/myapp", "docker.io/dmcgowan/myapp", "dmcgowan/myapp"],
    ["dmcgowan/myapp/sub:v1", "docker.io/dmcgowan/myapp/sub:v1", "dmcgowan/myapp/sub:v1"],
    ["localhost/busybox", "localhost/busybox", "localhost/busybox"],
    ["localhost:5000/ns/app:tag", "localhost:5000/ns/app:tag", "localhost:5000/ns/app:tag"],
    ["127.0.0.1:5000/a/b-c_d.e__f:1.0-x", "127.0.0.1:5000/a/b-c_d.e__f:1.0-x", "127.0.0.1:5000/a/b-c_d.e__f:1.0-x"],
    ["Docker.Example.com/foo", "Docker.Example.com/foo", "Docker.Example.com/foo"],
    ["[::1]:5000/app", "[::1]:5000/app", "[::1]:5000/app"],
    [
      "busybox@sha256:" + "e".repeat(64),
      "docker.io/library/busybox@sha256:" + "e".repeat(64),
      "busybox@sha256:" + "e".repeat(64),
    ],
    [
      "host:5000/x:tag@sha256:" + "a".repeat(64),
      "host:5000/x:tag@sha256:" + "a".repeat(64),
      "host:5000/x:tag@sha256:" + "a".repeat(64),
    ],
  ];
  for (const [input, full, familiar] of ok) {
    test(input, () => {
      const r = parseNormalized(input);
      expect(refString(r)).toBe(full);
      expect(familiarString(r)).toBe(familiar);
    });
  }

  const bad: [string, string][] = [
    ["", "invalid reference format"],
    ["Uppercase", "invalid reference format: repository name (library/Uppercase) must be lowercase"],
    ["docker.io/UPPER/x", "must be lowercase"],
    ["a".repeat(64), "cannot specify 64-byte hexadecimal strings"],
    ["busybox:", "invalid reference format"],
    ["busybox:-tag", "invalid reference format"],
    ["busybox@sha256:abc", "invalid reference format"],
    ["busybox@sha256:" + "A".repeat(64), "invalid checksum digest length"],
    ["busybox@md5:" + "a".repeat(32), "unsupported digest algorithm"],
    ["-busybox", "invalid reference format"],
    ["a/" + "b".repeat(255), "repository name must not be more than 255 characters"],
    ["foo//bar", "invalid reference format"],
    ["foo_-bar", "invalid reference format"],
    ["busybox:" + "t".repeat(129), "invalid reference format"],
  ];
  for (const [input, msg] of bad) {
    test(`refuses ${JSON.stringify(input.slice(0, 40))}`, () => {
      expect(() => parseNormalized(input)).toThrow(msg);
    });
  }
});

test("default tag only when neither tag nor digest", () => {
  expect(refString(parseUserRef("busybox"))).toBe("docker.io/library/busybox:latest");
  expect(refString(parseUserRef("busybox:1"))).toBe("docker.io/library/busybox:1");
  const d = "sha256:" + "b".repeat(64);
  expect(refString(parseUserRef(`busybox@${d}`))).toBe(`docker.io/library/busybox@${d}`);
});

test("familiar names keep non-library docker.io paths and other registries whole", () => {
  expect(familiarName(parseNormalized("docker.io/library/a/b"))).toBe("library/a/b");
  expect(familiarName(parseNormalized("quay.io/library/x"))).toBe("quay.io/library/x");
});

test("parseReference does not normalise", () => {
  expect(parseReference("busybox")).toEqual({ domain: "", path: "busybox" });
  expect(parseReference("h:1/p:t")).toEqual({ domain: "h:1", path: "p", tag: "t" });
});
