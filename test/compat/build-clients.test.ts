// Debian's docker-compose (a `build:` service) and python3-docker
// (`client.images.build`) building through ctr's POST /build.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isRoot, removeAllContainers, run, startDaemon, type TestDaemon } from "../helpers/daemon.ts";
import { seedBusybox, startRegistry } from "../helpers/registry.ts";
import { fixture } from "../helpers/build.ts";

setDefaultTimeout(180_000);
const compose = Bun.which("docker-compose");
const python = Bun.which("python3") && Bun.spawnSync(["python3", "-c", "import docker"]).exitCode === 0;
const skip = !isRoot ? "builds run containers: need root" : !compose ? "docker-compose not installed" : !python ? "python3-docker not installed" : null;
if (skip) console.warn(`skip: build clients: ${skip}`);

describe.skipIf(!!skip)("compose and docker-py build through ctr", () => {
  let d: TestDaemon;
  let reg: { host: string; stop(): Promise<void> };
  let bb: string;
  let dir: string;
  beforeAll(async () => {
    reg = await startRegistry();
    bb = await seedBusybox(reg.host);
    d = await startDaemon();
    dir = mkdtempSync(join(tmpdir(), "ctr-build-clients-"));
  });
  afterAll(async () => {
    await removeAllContainers(d);
    await d?.[Symbol.asyncDispose]();
    await reg?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test("docker-compose build and up of a build: service", async () => {
    writeFileSync(
      join(dir, "docker-compose.yml"),
      `version: "3.8"\nservices:\n  app:\n    build:\n      context: ${fixture("multi")}\n      args:\n        BASE: ${bb}\n    image: compose-built:1\n`,
    );
    const env = { DOCKER_HOST: d.host, COMPOSE_DOCKER_CLI_BUILD: "0", DOCKER_BUILDKIT: "0" };
    const b = await run([compose!, "-p", "ctrbuild", "-f", join(dir, "docker-compose.yml"), "build"], { env });
    expect(b.stderr).not.toContain("ERROR");
    expect(b.code).toBe(0);
    expect(b.stdout + b.stderr).toContain("Successfully tagged compose-built:1");
    const u = await run([compose!, "-p", "ctrbuild", "-f", join(dir, "docker-compose.yml"), "run", "--rm", "app"], { env });
    expect(u.stdout.trim()).toBe("5");
    await run([compose!, "-p", "ctrbuild", "-f", join(dir, "docker-compose.yml"), "down"], { env });
  });

  test("python3-docker images.build: image, logs, buildargs, target, failure", async () => {
    const script = `
import docker, json, sys
c = docker.DockerClient(base_url=sys.argv[1])
img, logs = c.images.build(path=sys.argv[2], tag="py-built:1", buildargs={"BASE": sys.argv[3]}, rm=True)
lines = [l.get("stream", "") for l in logs]
tools, _ = c.images.build(path=sys.argv[2], target="tools", buildargs={"BASE": sys.argv[3]})
try:
    c.images.build(path=sys.argv[4], buildargs={"BASE": sys.argv[3]})
    failed = None
except docker.errors.BuildError as e:
    failed = str(e)
print(json.dumps({"id": img.id, "tags": img.tags, "steps": sum(1 for l in lines if l.startswith("Step ")), "cmd": img.attrs["Config"]["Cmd"], "tools": tools.id, "failed": failed}))
`;
    const r = await run(["python3", "-c", script, d.host.replace("unix://", "unix://"), fixture("multi"), bb, fixture("fail")]);
    expect(r.stderr).toBe("");
    const out = JSON.parse(r.stdout) as { id: string; tags: string[]; steps: number; cmd: string[]; tools: string; failed: string };
    expect(out.id).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(out.tags).toContain("py-built:1");
    expect(out.steps).toBe(8);
    expect(out.cmd).toEqual(["run"]);
    expect(out.tools).toMatch(/^sha256:/);
    expect(out.tools).not.toBe(out.id);
    expect(out.failed).toBe("The command '/bin/sh -c echo before-failure && exit 3' returned a non-zero code: 3");
  });
});
