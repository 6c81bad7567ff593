// The client's detach keys: --detach-keys, else `detachKeys` from ~/.ctr/config.json,
// else from the docker CLI's config ($DOCKER_CONFIG or ~/.docker), else none (the daemon's).
import { afterEach, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { detachKeys } from "../../../src/cli/detach-keys.ts";

const saved = { HOME: process.env.HOME, DOCKER_CONFIG: process.env.DOCKER_CONFIG };
const dirs: string[] = [];
afterEach(() => {
  process.env.HOME = saved.HOME;
  if (saved.DOCKER_CONFIG === undefined) delete process.env.DOCKER_CONFIG;
  else process.env.DOCKER_CONFIG = saved.DOCKER_CONFIG;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function home(files: Record<string, string>): string {
  const h = mkdtempSync(join(tmpdir(), "ctr-keys-"));
  dirs.push(h);
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(join(h, rel, ".."), { recursive: true });
    writeFileSync(join(h, rel), text);
  }
  process.env.HOME = h;
  delete process.env.DOCKER_CONFIG;
  return h;
}

describe("client detach keys", () => {
  test("the flag first, then ctr's config, then docker's", async () => {
    home({ ".ctr/config.json": JSON.stringify({ detachKeys: "ctrl-x,x" }), ".docker/config.json": JSON.stringify({ detachKeys: "ctrl-d,d" }) });
    expect(await detachKeys("ctrl-a,a")).toBe("ctrl-a,a");
    expect(await detachKeys(undefined)).toBe("ctrl-x,x");
    home({ ".docker/config.json": JSON.stringify({ detachKeys: "ctrl-d,d" }) });
    expect(await detachKeys(undefined)).toBe("ctrl-d,d");
  });

  test("$DOCKER_CONFIG names docker's directory; a file that is not JSON, or no file, is no keys", async () => {
    const h = home({ "elsewhere/config.json": JSON.stringify({ detachKeys: "ctrl-e,e" }), ".ctr/config.json": "{not json" });
    process.env.DOCKER_CONFIG = join(h, "elsewhere");
    expect(await detachKeys(undefined)).toBe("ctrl-e,e");
    home({});
    expect(await detachKeys(undefined)).toBeUndefined();
  });

  test("a config path that is a directory is no keys: the next file is read", async () => {
    const h = home({ ".docker/config.json": JSON.stringify({ detachKeys: "ctrl-d,d" }) });
    mkdirSync(join(h, ".ctr", "config.json"), { recursive: true });
    expect(await detachKeys(undefined)).toBe("ctrl-d,d");
  });
});
