// The floor programs scripts/bench.ts prints each figure beside (issue 16):
// what the same work costs without ctr, measured in the same run so a loaded
// machine moves both sides alike.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** Wall times (ms) of `runs` runs of `argv`; throws on a non-zero exit. */
export async function timeCommand(argv: string[], runs: number, env?: Record<string, string>): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const p = Bun.spawn(argv, { stdin: "ignore", stdout: "ignore", stderr: "pipe", env: { ...process.env, ...env } });
    const [code, err] = await Promise.all([p.exited, new Response(p.stderr).text()]);
    if (code !== 0) throw new Error(`${argv.join(" ")} failed (${code}): ${err}`);
    times.push(performance.now() - t0);
  }
  return times;
}

/**
 * Times several commands taking turns (a, b, c, a, b, c, …) so a machine whose
 * load swings moves every side of a ratio alike. Returns each one's times.
 */
export async function timeInTurns(argvs: { argv: string[]; env?: Record<string, string> }[], runs: number): Promise<number[][]> {
  const times = argvs.map(() => [] as number[]);
  // The order turns too (ABC, BCA, CAB…): what one leaves behind falls on the next (a bridge
  // container's netns teardown holds the kernel's RTNL for ms), and in a fixed order the same
  // command always came right after the same other one (the --network none run after the bridge run).
  for (let i = 0; i < runs; i++) {
    for (let j = 0; j < argvs.length; j++) {
      const k = (i + j) % argvs.length;
      const c = argvs[k]!;
      times[k]!.push((await timeCommand(c.argv, 1, c.env))[0]!);
    }
  }
  return times;
}

/** A bare `console.log` program made by `bun build --compile`: the floor of any compiled Bun client's start. */
export async function bareProgram(dir: string): Promise<string> {
  const src = join(dir, "bare.ts");
  const out = join(dir, "bare");
  writeFileSync(src, 'console.log("0.0.0");\n');
  const p = Bun.spawn(["bun", "build", "--compile", src, "--outfile", out], { stdout: "ignore", stderr: "pipe" });
  if ((await p.exited) !== 0) throw new Error(`bun build --compile failed: ${await new Response(p.stderr).text()}`);
  return out;
}

/**
 * An OCI bundle for `runc run`: the rootfs is ctr's own export of a busybox
 * container (the same files ctr starts), the config runc's default spec
 * (new network namespace with only lo — as --network none) running `true`.
 */
export async function runcBundle(dir: string, exportRootfs: (into: string) => Promise<void>): Promise<string> {
  const bundle = join(dir, "bundle");
  const rootfs = join(bundle, "rootfs");
  mkdirSync(rootfs, { recursive: true });
  await exportRootfs(rootfs);
  const spec = Bun.spawnSync(["runc", "spec", "--bundle", bundle]);
  if (spec.exitCode !== 0) throw new Error(`runc spec: ${spec.stderr.toString()}`);
  const path = join(bundle, "config.json");
  const config = JSON.parse(await Bun.file(path).text());
  config.process.terminal = false;
  config.process.args = ["true"];
  writeFileSync(path, JSON.stringify(config));
  return bundle;
}

/** `runc run` of the bundle as a command for timeInTurns (runc deletes a container it ran in the foreground). */
export function runcRun(bundle: string): { argv: string[] } {
  let n = 0;
  // A fresh container id per run: timeInTurns reads argv once per turn.
  return {
    get argv() {
      return ["runc", "run", "--bundle", bundle, `ctr-bench-${process.pid}-${n++}`];
    },
  };
}

interface Manifest {
  config: { digest: string };
  layers: { digest: string }[];
}

/**
 * The pull floor: REF's manifest and config, then every layer fetched by
 * `curl | gzip -d | tar -x` from the same local registry, all layers at once (as
 * ctr pulls them). Returns ms. The clock includes the manifest and config fetches
 * because a pull's does: ctr's time is its client's start, the manifest, the config,
 * then the layers (issue 16).
 */
export async function timeCurlPipeline(ref: string, dir: string): Promise<number> {
  const m = /^([^/]+)\/(.+):([^:/]+)$/.exec(ref);
  if (!m) throw new Error(`cannot split ${ref}`);
  const [, host, repo, tag] = m;
  const accept = "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json";
  const t0 = performance.now();
  const res = await fetch(`http://${host}/v2/${repo}/manifests/${tag}`, { headers: { accept } });
  if (!res.ok) throw new Error(`manifest of ${ref}: ${res.status}`);
  const manifest = (await res.json()) as Manifest;
  const config = await fetch(`http://${host}/v2/${repo}/blobs/${manifest.config.digest}`);
  if (!config.ok) throw new Error(`config of ${ref}: ${config.status}`);
  await config.arrayBuffer();
  await Promise.all(
    manifest.layers.map(async (l, i) => {
      const into = join(dir, `layer${i}`);
      mkdirSync(into, { recursive: true });
      const url = `http://${host}/v2/${repo}/blobs/${l.digest}`;
      await timeCommand(["bash", "-o", "pipefail", "-c", `curl -sf "$0" | gzip -d | tar -x -C "$1"`, url, into], 1);
    }),
  );
  return performance.now() - t0;
}
