import { expect, test } from "bun:test";
import { normalizePlatform, parsePlatform, selectPlatform } from "../../../src/engine/distribution/platform.ts";

const entries = [
  { name: "amd64", platform: { os: "linux", architecture: "amd64" } },
  { name: "arm64", platform: { os: "linux", architecture: "arm64", variant: "v8" } },
  { name: "armv7", platform: { os: "linux", architecture: "arm", variant: "v7" } },
  { name: "armv6", platform: { os: "linux", architecture: "arm", variant: "v6" } },
  { name: "win", platform: { os: "windows", architecture: "amd64" } },
];
const pick = (p: string) => selectPlatform(entries, parsePlatform(p))?.name ?? null;

test("platform parsing normalises like containerd", () => {
  expect(parsePlatform("linux/aarch64")).toEqual({ os: "linux", architecture: "arm64" });
  expect(parsePlatform("linux/arm64/v8")).toEqual({ os: "linux", architecture: "arm64" });
  expect(parsePlatform("linux/arm")).toEqual({ os: "linux", architecture: "arm", variant: "v7" });
  expect(parsePlatform("armhf")).toEqual({ os: "linux", architecture: "arm", variant: "v7" });
  expect(parsePlatform("linux/x86_64")).toEqual({ os: "linux", architecture: "amd64" });
  expect(() => parsePlatform("linux//x")).toThrow("invalid platform");
  expect(normalizePlatform({ os: "Linux", architecture: "arm", variant: "6" })).toEqual({ os: "linux", architecture: "arm", variant: "v6" });
});

test("selection: exact, arm64 v8 == none, arm falls back to older variants, no match", () => {
  expect(pick("linux/amd64")).toBe("amd64");
  expect(pick("linux/arm64")).toBe("arm64");
  expect(pick("linux/arm/v7")).toBe("armv7");
  expect(pick("linux/arm/v6")).toBe("armv6");
  expect(pick("linux/arm/v8")).toBe("armv7");
  expect(pick("windows/amd64")).toBe("win");
  expect(pick("linux/s390x")).toBeNull();
  expect(selectPlatform(entries.filter((e) => e.name === "armv6"), parsePlatform("linux/arm/v7"))?.name).toBe("armv6");
  expect(selectPlatform(entries.filter((e) => e.name === "armv7"), parsePlatform("linux/arm/v6"))).toBeNull();
});
