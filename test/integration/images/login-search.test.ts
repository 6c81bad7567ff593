// ctr login/logout against a registry with Basic auth (htpasswd), and search.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { hasDocker, isRoot, run, startDaemon, type TestDaemon } from "../../helpers/daemon.ts";
import { haveRegistry, seedBusybox, startRegistry, type RunningRegistry } from "../../helpers/registry.ts";

setDefaultTimeout(60_000);

const ready = isRoot && haveRegistry;
if (!isRoot) console.warn("skip: the daemon needs root");
else if (!haveRegistry) console.warn("skip: docker-registry is not installed");

describe.skipIf(!ready)("login, logout, search", () => {
  let reg: RunningRegistry;
  let areg: RunningRegistry;
  let bb: string;
  let d: TestDaemon;
  let home: string;
  // A HOME of its own, so the real ~/.ctr is never touched.
  const ctr = (args: string[], stdin?: string) => d.ctr(args, { stdin, env: { HOME: home } });

  beforeAll(async () => {
    reg = await startRegistry();
    areg = await startRegistry({ htpasswd: { user: "alice", password: "s3cret" } });
    bb = await seedBusybox(reg.host);
    d = await startDaemon();
    home = mkdtempSync(join(tmpdir(), "ctr-home-"));
    expect((await ctr(["pull", "-q", bb])).code).toBe(0);
  });
  afterAll(async () => {
    await d?.[Symbol.asyncDispose]();
    await reg?.stop();
    await areg?.stop();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  test("login checks the password with the registry, then push and pull use the stored credentials", async () => {
    const bad = await ctr(["login", "-u", "alice", "--password-stdin", areg.host], "wrong\n");
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain("unauthorized");
    const ok = await ctr(["login", "-u", "alice", "--password-stdin", areg.host], "s3cret\n");
    expect(ok).toMatchObject({ code: 0, stdout: "Login Succeeded\n" });
    const cfg = JSON.parse(readFileSync(join(home, ".ctr/config.json"), "utf8"));
    expect(Object.keys(cfg.auths)).toContain(areg.host);
    const target = `${areg.host}/private/bb:1`;
    expect((await ctr(["tag", bb, target])).code).toBe(0);
    const push = await ctr(["push", target]);
    expect(push.code).toBe(0);
    expect((await ctr(["rmi", target])).code).toBe(0);
    expect((await ctr(["pull", "-q", target])).code).toBe(0);
    expect((await ctr(["logout", areg.host])).stdout).toBe(`Removing login credentials for ${areg.host}\n`);
    await ctr(["rmi", target]);
    const anon = await ctr(["pull", "-q", target]);
    expect(anon.code).not.toBe(0);
  });

  test("search falls back to the catalog of a registry without /v1/search", async () => {
    const r = await ctr(["search", `${reg.host}/busy`]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^NAME\s+DESCRIPTION\s+STARS\s+OFFICIAL\n/);
    expect(r.stdout).toContain(`${reg.host}/library/busybox`);
    expect((await ctr(["search", `${reg.host}/nothing-like-this`])).stdout.trim().split("\n").length).toBe(1);
  });

  test.skipIf(!hasDocker)("docker login against our daemon", async () => {
    // HOME of its own: docker login writes ~/.docker/config.json.
    const r = await run(["docker", "-H", d.host, "login", "-u", "alice", "--password-stdin", areg.host], { stdin: "s3cret\n", env: { HOME: home } });
    expect(r.stdout).toContain("Login Succeeded");
  });
});
