import { describe, expect, test } from "bun:test";
import { mayAutostart } from "../../../src/cli/context.ts";
import { DEFAULT_HOST } from "../../../src/hosts.ts";

describe("auto-start of the daemon", () => {
  test("the default socket, or another local socket with CTR_ROOT; never a remote host", () => {
    expect(mayAutostart(DEFAULT_HOST, undefined)).toBe(true);
    expect(mayAutostart("unix:///some/other.sock", undefined)).toBe(false);
    expect(mayAutostart("unix:///some/other.sock", "/srv/ctr")).toBe(true);
    expect(mayAutostart("/some/other.sock", "/srv/ctr")).toBe(true);
    expect(mayAutostart("tcp://127.0.0.1:2376", "/srv/ctr")).toBe(false);
  });
});
