// Build figures for scripts/bench.ts (`--build`): a cold build of an app image
// (a base, a dependency layer, a source layer, metadata), a no-op rebuild, a
// rebuild after one source file changed, and a three-stage build whose two
// independent stages each sleep 1 s (≈1 s when they run at once, ≈2 s if not).
// The same builds on Debian's dockerd (classic builder) when it is installed.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DIST, run, startDaemon } from "../test/helpers/daemon.ts";
import { dockerdSkipReason, startDockerd } from "../test/helpers/dockerd.ts";

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function appContext(base: string): string {
  const dir = mkdtempSync(join(tmpdir(), "ctr-bench-app-"));
  mkdirSync(join(dir, "src"));
  writeFileSync(
    join(dir, "Dockerfile"),
    `FROM ${base}
ARG APP_VERSION=1.0
ENV APP_HOME=/opt/app APP_VERSION=\${APP_VERSION}
WORKDIR /opt/app
RUN mkdir -p /opt/app/deps && for i in $(seq 1 200); do head -c 20000 /dev/urandom > /opt/app/deps/lib$i.so; done
COPY deps.txt ./
RUN sort deps.txt > deps.sorted && wc -l deps.sorted
COPY src/ ./src/
RUN cat src/*.sh > app.sh && chmod +x app.sh
USER 1001
EXPOSE 8080
LABEL org.opencontainers.image.title=app
HEALTHCHECK --interval=5s CMD test -f /opt/app/app.sh
ENTRYPOINT ["/bin/sh", "/opt/app/app.sh"]
CMD ["--serve"]
`,
  );
  writeFileSync(join(dir, "deps.txt"), "zlib\nopenssl\nca-certificates\n");
  for (let i = 0; i < 5; i++) writeFileSync(join(dir, "src", `part${i}.sh`), `echo part ${i}\n`);
  return dir;
}

function threeStageContext(base: string): string {
  const dir = mkdtempSync(join(tmpdir(), "ctr-bench-multi-"));
  writeFileSync(
    join(dir, "Dockerfile"),
    `FROM ${base} AS one
RUN sleep 1 && echo one > /one
FROM ${base} AS two
RUN sleep 1 && echo two > /two
FROM ${base}
COPY --from=one /one /one
COPY --from=two /two /two
`,
  );
  return dir;
}

type Builder = (args: string[]) => Promise<{ code: number; stdout: string; stderr: string }>;

async function timed(b: Builder, args: string[]): Promise<number> {
  const t0 = performance.now();
  const r = await b(args);
  if (r.code !== 0) throw new Error(`build ${args.join(" ")} failed: ${r.stderr}`);
  return performance.now() - t0;
}

async function figures(name: string, b: Builder, base: string, runs: number): Promise<[string, string][]> {
  const app = appContext(base);
  const multi = threeStageContext(base);
  const out: [string, string][] = [];
  try {
    await b(["-q", "-t", "bench-warm", "-"]); // nothing: a failing stdin build warms the client
    const cold = await timed(b, ["-q", "--no-cache", "-t", "bench-app", app]);
    out.push([`${name}: cold build of the app image (base present)`, `${(cold / 1000).toFixed(2)} s`]);
    const noop: number[] = [];
    for (let i = 0; i < runs; i++) noop.push(await timed(b, ["-q", "-t", "bench-app", app]));
    out.push([`${name}: no-op rebuild (CLI end to end, ${runs} runs)`, `median ${median(noop).toFixed(0)} ms, min ${Math.min(...noop).toFixed(0)} ms`]);
    const edits: number[] = [];
    for (let i = 0; i < 3; i++) {
      writeFileSync(join(app, "src", "part2.sh"), `echo part 2 edit ${i} ${Date.now()}\n`);
      edits.push(await timed(b, ["-q", "-t", "bench-app", app]));
    }
    out.push([`${name}: rebuild after one source file changed (median of 3)`, `${(median(edits) / 1000).toFixed(2)} s`]);
    const three = await timed(b, ["-q", "--no-cache", "-t", "bench-multi", multi]);
    out.push([`${name}: three stages, two independent 'sleep 1' stages`, `${(three / 1000).toFixed(2)} s`]);
  } finally {
    rmSync(app, { recursive: true, force: true });
    rmSync(multi, { recursive: true, force: true });
  }
  return out;
}

export async function benchBuild(bb: string, runs: number): Promise<[string, string][]> {
  const results: [string, string][] = [];
  const d = await startDaemon([], undefined, { bin: DIST });
  try {
    await run([DIST, "pull", bb], { env: { CTR_HOST: d.host } });
    results.push(...(await figures("ctr build", (a) => run([DIST, "build", ...a], { env: { CTR_HOST: d.host } }), bb, runs)));
  } finally {
    await d[Symbol.asyncDispose]();
  }
  if (!dockerdSkipReason) {
    const k = await startDockerd();
    try {
      await k.docker(["pull", "-q", bb]);
      results.push(...(await figures("dockerd classic", (a) => k.docker(["build", ...a], { env: { DOCKER_BUILDKIT: "0" } }), bb, runs)));
    } finally {
      await k[Symbol.asyncDispose]();
    }
  }
  return results;
}
