import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CLI, DIST, hasDocker, isRoot, run, startDaemon, until, type TestDaemon } from "../../helpers/daemon.ts";

describe("daemon over a unix socket", () => {
  let d: TestDaemon;
  beforeAll(async () => {
    d = await startDaemon();
  });
  afterAll(async () => {
    await d[Symbol.asyncDispose]();
  });

  test("socket is mode 0660 and the store is laid out", () => {
    expect(statSync(d.sock).mode & 0o777).toBe(0o660);
    for (const p of ["ctr.db", "blobs/sha256", "layers", "containers", "volumes", "tmp"]) {
      expect(existsSync(join(d.root, p))).toBe(true);
    }
  });

  test("ctr version prints client and server versions", async () => {
    const r = await d.ctr(["version"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Client:\n Version:\s+\d+\.\d+\.\d+/);
    expect(r.stdout).toMatch(/Server: ctr\n Engine:\n  Version:\s+\d+\.\d+\.\d+\n  API version:\s+1\.51 \(minimum version 1\.24\)/);
  });

  test("ctr info shows root dir, driver, counts and versions", async () => {
    const r = await d.ctr(["info"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(` Root Dir: ${d.root}`);
    expect(r.stdout).toMatch(/ Storage Driver: (overlay2|vfs)/);
    expect(r.stdout).toContain(" Containers: 0");
    expect(r.stdout).toMatch(/ Schema Version: \d+/);
  });

  test("ctr jobs lists the jobs that ran, with their status", async () => {
    await d.ctr(["version"]);
    const r = await d.ctr(["jobs"]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^ID\s+NAME\s+ARGS\s+STATUS/);
    expect(lines.some((l) => /\bversion\b.*\bsucceeded\b/.test(l))).toBe(true);
    expect(lines.some((l) => /\binfo\b.*\bsucceeded\b/.test(l))).toBe(true);
    const all = await d.ctr(["jobs", "-a"]);
    expect(all.stdout).toMatch(/\bping\b.*\bsucceeded\b/);
  });

  test("bad input: unknown path 404, malformed JSON 400, daemon keeps running", async () => {
    const nf = await fetch("http://x/v1.50/definitely/not/here", { unix: d.sock } as RequestInit);
    expect(nf.status).toBe(404);
    expect(((await nf.json()) as { message: string }).message).toBeString();
    const bad = await fetch("http://x/v1.50/containers/create", {
      unix: d.sock,
      method: "POST",
      body: "{oops",
      headers: { "Content-Type": "application/json" },
    } as RequestInit);
    expect(bad.status).toBe(400);
    // encoding/json's scanner error, as dockerd words it
    expect(((await bad.json()) as { message: string }).message).toBe("invalid character 'o' looking for beginning of object key string");
    expect(await d.client.ping()).toBe(true);
  });

  test("errors from the CLI are one line, no stack trace", async () => {
    const r = await d.ctr(["no-such-command"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim().split("\n")[0]).toMatch(/^Error: unknown command: no-such-command/);
    expect(r.stderr).not.toContain("    at ");
  });

  test("a second daemon on the same root refuses with a clear message", async () => {
    const r = await run([process.execPath, CLI, "daemon", "-H", `unix://${d.dir}/other.sock`, "--root", d.root]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("another ctr daemon");
    expect(r.stderr).toContain(d.root);
  });

  test("tcp:// without TLS is refused", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ctr-tcp-"));
    try {
      const r = await run([process.execPath, CLI, "daemon", "-H", "tcp://127.0.0.1:0", "--root", join(dir, "root")]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain("without TLS");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe.skipIf(!hasDocker)("the real docker CLI", () => {
    if (!hasDocker) console.warn("skip: docker CLI not installed");
    test("docker version prints our server's fields", async () => {
      const r = await d.docker(["version"]);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/Server: ctr\n Engine:\n  Version:\s+\d+\.\d+\.\d+\n  API version:\s+1\.51 \(minimum version 1\.24\)/);
      expect(r.stdout).toMatch(/API version:\s+1\.50\n/); // the client negotiated down to its own max
    });
    test("docker info prints our server's fields", async () => {
      const r = await d.docker(["info"]);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain("Server Version: ");
      expect(r.stdout).toContain(`Docker Root Dir: ${d.root}`);
      expect(r.stdout).toContain("Default Runtime: ctr");
      expect(r.stderr).not.toContain("rror");
    });
  });
});

describe("shutdown", () => {
  test("SIGTERM stops the daemon cleanly and releases the root", async () => {
    const d = await startDaemon();
    try {
      d.proc.kill("SIGTERM");
      expect(await d.proc.exited).toBe(0);
      const again = await startDaemon([], { dir: d.dir });
      await again.stop();
    } finally {
      await d[Symbol.asyncDispose]();
    }
  });
});

describe.skipIf(!isRoot || !existsSync(DIST))("dist/ctr alone", () => {
  if (!isRoot) console.warn("skip: starting a daemon on demand needs root");
  else if (!existsSync(DIST)) console.warn("skip: dist/ctr not built (bun run build)");
  test("copied to another directory, `ctr version` starts the daemon on demand", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ctr-alone-"));
    const bin = join(dir, "ctr");
    copyFileSync(DIST, bin);
    const env = { CTR_HOST: `unix://${dir}/ctr.sock`, CTR_ROOT: join(dir, "root"), PATH: "/usr/bin:/bin" };
    try {
      const r = await run([bin, "version"], { env, cwd: dir });
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(r.stdout).toContain("Client:");
      expect(r.stdout).toContain("Server: ctr");
      expect(readFileSync(join(dir, "root", "daemon.log"), "utf8")).toContain("daemon started");
      // Started by the client: without the DFG from its start (src/jit-tiers.ts).
      const pid = Number(readFileSync(join(dir, "root", "ctr.lock"), "utf8").trim());
      expect(jscOptions(pid)).toEqual(["BUN_JSC_useDFGJIT=0"]);
    } finally {
      const lock = join(dir, "root", "ctr.lock");
      const pid = existsSync(lock) ? Number(readFileSync(lock, "utf8").trim()) : 0;
      if (pid > 0) {
        process.kill(pid, "SIGTERM");
        await until(() => !existsSync(`/proc/${pid}`) || readFileSync(`/proc/${pid}/stat`, "utf8").includes(") Z"), "daemon exit");
      }
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("`ctr daemon` re-executes itself without the DFG: same pid, and an option the user set is kept", async () => {
    {
      await using d = await startDaemon([], undefined, { bin: DIST });
      expect(jscOptions(d.proc.pid)).toEqual(["BUN_JSC_useDFGJIT=0"]);
      const r = await run([DIST, "version"], { env: { CTR_HOST: d.host } });
      expect(r.code).toBe(0);
    }
    await using d = await startDaemon([], undefined, { bin: DIST, env: { BUN_JSC_useDFGJIT: "1" } });
    expect(jscOptions(d.proc.pid)).toEqual(["BUN_JSC_useDFGJIT=1"]);
  });

  test("the daemon's bytecode is laid out by the recorded profile: what it loads comes from the profiled part", async () => {
    await using d = await startDaemon([], undefined, { bin: DIST });
    process.kill(d.proc.pid, "SIGUSR2"); // the memory report (src/server/memory-report.ts)
    const line = await until(() => readFileSync(join(d.dir, "daemon.log"), "utf8").split("\n").find((l) => l.includes('msg="memory"')), "the memory report");
    const stats = JSON.parse(/bytecode=(\{[^}]*\})/.exec(line!)?.[1] ?? "null") as { hot: number; cold: number } | null;
    // null: the build laid nothing out (scripts/bytecode-order/*.order missing from scripts/build.ts).
    expect(stats).not.toBeNull();
    expect(stats!.hot).toBeGreaterThan(stats!.cold);
  });
});

/** The JavaScriptCore options in a process's environment (what its runtime started with). */
function jscOptions(pid: number): string[] {
  return readFileSync(`/proc/${pid}/environ`, "utf8").split("\0").filter((kv) => kv.startsWith("BUN_JSC_"));
}
