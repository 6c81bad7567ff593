// The docker CLI 28 (classic builder: no buildx here, DOCKER_BUILDKIT=0)
// building through ctr: the JSON-lines answer as dockerd's
// (../shared/reference/docker-build-api-traffic.md), the image config and
// history the Dockerfile says, the cache, --target, failures and prune.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { hasDocker, isRoot, removeAllContainers, run, startDaemon, type TestDaemon } from "../helpers/daemon.ts";
import { seedBusybox, startRegistry } from "../helpers/registry.ts";
import { copyFixture, dockerBuild, fixture, historyCreatedBy, imageConfig } from "../helpers/build.ts";

setDefaultTimeout(120_000);
const ready = hasDocker && isRoot;
if (!hasDocker) console.warn("skip: docker CLI not installed");
else if (!isRoot) console.warn("skip: builds run containers: need root");

const HEX = "[0-9a-f]{12}";

describe.skipIf(!ready)("docker build against ctr", () => {
  let d: TestDaemon;
  let reg: { host: string; stop(): Promise<void> };
  let bb: string;
  const dirs: string[] = [];
  beforeAll(async () => {
    reg = await startRegistry();
    bb = await seedBusybox(reg.host);
    d = await startDaemon();
  });
  afterAll(async () => {
    await removeAllContainers(d);
    await d?.[Symbol.asyncDispose]();
    await reg?.stop();
    for (const x of dirs) rmSync(x, { recursive: true, force: true });
  });

  test("an app image: steps, output, config and history as dockerd writes them", async () => {
    const r = await dockerBuild(d.host, ["-t", "build-app", "--build-arg", `BASE=${bb}`, "--build-arg", "APP_VERSION=2", fixture("app")]);
    expect({ code: r.code, err: r.stderr.replace(/^DEPRECATED[^]*?variable\.\n\n/, "") }).toEqual({ code: 0, err: "" });
    expect(r.stdout).toContain("Step 1/23 : FROM ${BASE}\n");
    expect(r.stdout).toMatch(new RegExp(`Step 9/23 : RUN sort deps.txt > deps.sorted && wc -l deps.sorted\\n ---> Running in ${HEX}\\n3 deps.sorted\\nRemoving intermediate container ${HEX}\\n ---> ${HEX}\\n`));
    expect(r.stdout).toMatch(new RegExp(`Successfully built ${HEX}\\nSuccessfully tagged build-app:latest\\n$`));
    expect(r.stdout).not.toContain("[Warning]");
    const cfg = await imageConfig(d.host, "build-app");
    expect(cfg).toMatchObject({
      User: "1001",
      WorkingDir: "/opt/app",
      Entrypoint: ["/bin/sh", "/opt/app/app.sh"],
      Cmd: ["--serve"],
      ExposedPorts: { "8080/tcp": {}, "9090/udp": {} },
      Volumes: { "/data": {} },
      Labels: { "org.opencontainers.image.title": "app", version: "2" },
      StopSignal: "SIGINT",
      Shell: ["/bin/sh", "-ec"],
      OnBuild: ["RUN echo triggered"],
      Healthcheck: { Test: ["CMD-SHELL", "test -f /opt/app/app.sh"], Interval: 5e9, Timeout: 2e9, Retries: 3 },
    });
    expect(cfg.Env).toEqual([
      "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
      "APP_HOME=/opt/app",
      "APP_VERSION=2",
      "GREETING=hello world",
      "EMPTY_DEFAULT=fallback",
      "ALT=set",
    ]);
    const hist = (await historyCreatedBy(d.host, "build-app")).slice(1);
    const hash = (s: string) => s.replace(/(file|dir|multi):[0-9a-f]{64}/, "$1:<hash>");
    expect(hist.map(hash)).toEqual([
      "/bin/sh -c #(nop)  ARG APP_VERSION=1.0",
      "/bin/sh -c #(nop)  ARG BUILD_NO=7",
      "/bin/sh -c #(nop)  ENV APP_HOME=/opt/app APP_VERSION=2 GREETING=hello world EMPTY_DEFAULT=fallback ALT=set",
      "/bin/sh -c #(nop)  LABEL org.opencontainers.image.title=app version=2",
      "/bin/sh -c #(nop) WORKDIR /opt/app",
      `|1 BUILD_NO=7 /bin/sh -c mkdir -p /opt/app/deps && for i in 1 2 3; do echo "lib $i" > /opt/app/deps/lib$i.so; done`,
      "/bin/sh -c #(nop) COPY file:<hash> in ./ ",
      "|1 BUILD_NO=7 /bin/sh -c sort deps.txt > deps.sorted && wc -l deps.sorted",
      "/bin/sh -c #(nop) COPY dir:<hash> in ./src/ ",
      "/bin/sh -c #(nop) COPY --chown=1001:1001multi:<hash> in /opt/app/bin/ ",
      "/bin/sh -c #(nop) ADD file:<hash> in /opt/bundle/ ",
      "|1 BUILD_NO=7 /bin/sh -c cat src/*.sh > app.sh && chmod +x app.sh",
      "|1 BUILD_NO=7 /bin/sh -c echo 'app:x:1001:1001::/home/app:/bin/sh' >> /etc/passwd",
      "/bin/sh -c #(nop)  USER 1001",
      "/bin/sh -c #(nop)  EXPOSE 8080 9090/udp",
      "/bin/sh -c #(nop)  VOLUME [/data]",
      "/bin/sh -c #(nop)  STOPSIGNAL SIGINT",
      `/bin/sh -c #(nop)  HEALTHCHECK &{["CMD-SHELL" "test -f /opt/app/app.sh"] "5s" "2s" "0s" '\\x03'}`,
      "/bin/sh -ec #(nop)  SHELL [/bin/sh -ec]",
      "/bin/sh -ec #(nop)  ONBUILD RUN echo triggered",
      `/bin/sh -ec #(nop)  ENTRYPOINT ["/bin/sh" "/opt/app/app.sh"]`,
      `/bin/sh -ec #(nop)  CMD ["--serve"]`,
    ]);
    // The files: COPY rules, --chown, ADD's tar extraction, .dockerignore (with a ! exception).
    const ls = await d.docker(["run", "--rm", "--entrypoint", "sh", "build-app", "-c", "cd /opt && find . | sort && ls -ln app/bin | tail -2 && cat app/deps.sorted bundle/inner/file.txt"]);
    expect(ls.code).toBe(0);
    const files = ls.stdout.split("\n");
    expect(files).toContain("./app/src/main.sh");
    expect(files).toContain("./app/bin/util.sh");
    expect(files).toContain("./bundle/inner/file.txt");
    expect(files).not.toContain("./app/bin/README");
    expect(ls.stdout).toMatch(/-rw-r--r--\s+1 1001\s+1001\s+\d+ .* util\.sh/);
    expect(ls.stdout).toContain("ca-certificates\nopenssl\nzlib\nbundled\n");
    const ctx = await d.docker(["run", "--rm", "--entrypoint", "sh", "build-app", "-c", "ls /opt/app"]);
    expect(ctx.stdout).not.toContain("secret.txt");
  });

  test("a rebuild with nothing changed is all cache and the same image", async () => {
    const first = await d.docker(["image", "inspect", "-f", "{{.Id}}", "build-app"]);
    const r = await dockerBuild(d.host, ["-t", "build-app", "--build-arg", `BASE=${bb}`, "--build-arg", "APP_VERSION=2", fixture("app")]);
    expect(r.code).toBe(0);
    expect(r.stdout.match(/ ---> Using cache\n/g)?.length).toBe(22);
    expect(r.stdout).not.toContain("Running in");
    const again = await d.docker(["image", "inspect", "-f", "{{.Id}}", "build-app"]);
    expect(again.stdout).toBe(first.stdout);
  });

  test("one changed source file rebuilds from its COPY on; a new mtime alone changes nothing", async () => {
    const dir = copyFixture("app");
    dirs.push(dir);
    const r0 = await dockerBuild(d.host, ["-t", "build-app", "--build-arg", `BASE=${bb}`, "--build-arg", "APP_VERSION=2", dir]);
    expect(r0.stdout).not.toContain("Running in"); // a fresh copy (new mtimes) hits the cache
    writeFileSync(join(dir, "src/util.sh"), "echo util v2\n");
    const r = await dockerBuild(d.host, ["-t", "build-app2", "--build-arg", `BASE=${bb}`, "--build-arg", "APP_VERSION=2", dir]);
    expect(r.code).toBe(0);
    const steps = r.stdout.split(/(?=Step \d+\/23)/);
    expect(steps[8]).toContain("Using cache"); // COPY deps.txt
    expect(steps[10]).toMatch(/^Step 10\/23 : COPY src\/ \.\/src\/\n ---> [0-9a-f]{12}\n$/);
    expect(steps[13]).toContain("Running in");
  });

  test("multi-stage: --target builds only what it needs; -q prints the id; COPY --from", async () => {
    const q = await dockerBuild(d.host, ["-q", "--target", "tools", "-t", "build-tools", "--build-arg", `BASE=${bb}`, fixture("multi")]);
    expect(q.code).toBe(0);
    expect(q.stdout).toMatch(/^sha256:[0-9a-f]{64}\n$/);
    const full = await dockerBuild(d.host, ["-t", "build-multi", "--build-arg", `BASE=${bb}`, fixture("multi")]);
    expect(full.code).toBe(0);
    expect(full.stdout).not.toContain("never-built");
    expect(full.stdout).toContain("Step 8/8 : CMD [\"run\"]");
    expect(full.stdout).toMatch(/Step 3\/8 : FROM \$\{BASE\} AS tools\n ---> [0-9a-f]{12}\nStep 4\/8 : RUN mkdir \/tools.*\n ---> Using cache\n/);
    const out = await d.docker(["run", "--rm", "build-multi"]);
    expect(out).toMatchObject({ code: 0, stdout: "5\n" });
  });

  test("a failing RUN: its output, Docker's message and its exit code", async () => {
    const r = await dockerBuild(d.host, ["--build-arg", `BASE=${bb}`, fixture("fail")]);
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(new RegExp(`Step 2/2 : RUN echo before-failure && exit 3\\n ---> Running in ${HEX}\\nbefore-failure\\n$`));
    expect(r.stderr).toContain("The command '/bin/sh -c echo before-failure && exit 3' returned a non-zero code: 3");
  });

  test("an unknown instruction is a 400 with the line", async () => {
    const r = await dockerBuild(d.host, [fixture("unknown")]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("Error response from daemon: dockerfile parse error line 2: unknown instruction: FOO");
  });

  test("without DOCKER_BUILDKIT the CLI 28 (no buildx) falls back to this classic endpoint by itself", async () => {
    const r = await run(["docker", "-H", d.host, "build", "-q", "-"], { stdin: `FROM ${bb}\nLABEL fallback=1\n`, env: { DOCKER_BUILDKIT: "" } });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^sha256:[0-9a-f]{64}\n$/);
  });

  test("a Dockerfile on stdin; a missing COPY source; an unknown --from image", async () => {
    const s = await dockerBuild(d.host, ["-t", "build-stdin", "-"], { stdin: `FROM ${bb}\nRUN echo from-stdin > /f\n` });
    expect(s.code).toBe(0);
    expect(s.stdout).toContain("Successfully tagged build-stdin:latest");
    const missing = await dockerBuild(d.host, ["-f", "-", fixture("fail")], { stdin: `FROM ${bb}\nCOPY nothere.txt /x\n` });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("COPY failed: file not found in build context or excluded by .dockerignore: stat nothere.txt: file does not exist");
    const nostage = await dockerBuild(d.host, ["-f", "-", fixture("fail")], { stdin: `FROM ${bb}\nCOPY --from=${reg.host}/nosuch /x /x\n` });
    expect(nostage.code).toBe(1);
    expect(nostage.stderr).toMatch(/nosuch/);
    const badarg = await dockerBuild(d.host, ["-f", "-", fixture("fail")], { stdin: `FROM ${bb}\nARG 1bad=x\n` });
    expect(badarg.code).toBe(1);
    expect(badarg.stderr).toContain("invalid ARG name");
  });

  test("build cache in system df; builder prune reclaims it", async () => {
    const df = await d.docker(["system", "df"]);
    expect(df.stdout).toMatch(/Build Cache\s+[1-9]\d*\s/);
    const p = await d.docker(["builder", "prune", "-f"]);
    expect(p.code).toBe(0);
    expect(p.stdout).toContain("Deleted build cache objects:");
    expect(p.stdout).toMatch(/Total reclaimed space: /);
    const after = await d.docker(["system", "df"]);
    expect(after.stdout).toMatch(/Build Cache\s+0\s/);
    // Without the cache rows the next build makes new steps.
    const r = await dockerBuild(d.host, ["--build-arg", `BASE=${bb}`, "-t", "build-multi", fixture("multi")]);
    expect(r.stdout).not.toContain("Using cache");
  });
});
