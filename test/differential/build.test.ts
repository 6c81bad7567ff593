// The same Dockerfiles built by Debian's dockerd (its classic builder) and by
// ctr: image configs, history and every layer's files (names, types, modes,
// owners, sizes, contents, link targets; not mtimes) must agree, except for
// what intended-differences.ts lists.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { createHash } from "node:crypto";
import { extract } from "tar-stream";
import { hasDocker, run, type TestDaemon } from "../helpers/daemon.ts";
import { dockerdSkipReason, startPeers, stopPeers, type TestDockerd } from "../helpers/dockerd.ts";
import { differences, normalise } from "../helpers/normalise.ts";
import type { RunningRegistry } from "../helpers/registry.ts";
import { fixture } from "../helpers/build.ts";
import { intended } from "./intended-differences.ts";

setDefaultTimeout(240_000);
const skip = dockerdSkipReason ?? (hasDocker ? undefined : "needs the docker CLI");
if (skip) console.warn(`skip: differential build: ${skip}`);

type Entry = { name: string; type: string; mode: string; uid: number; gid: number; size: number; sha: string; link: string };

/** `docker save` → the image's layers (bottom first), each as its entry list. */
async function layersOf(host: string, ref: string): Promise<Entry[][]> {
  const saved = Bun.spawn(["docker", "-H", host, "save", ref], { stdout: "pipe", stderr: "ignore" });
  const files = new Map<string, Buffer>();
  const ex = extract();
  const done = (async () => {
    for await (const e of ex) {
      const parts: Buffer[] = [];
      for await (const c of e) parts.push(c as Buffer);
      if (e.header.type === "file") files.set(e.header.name, Buffer.concat(parts));
    }
  })();
  for await (const c of saved.stdout as unknown as AsyncIterable<Uint8Array>) ex.write(c);
  ex.end(undefined);
  await done;
  const manifest = JSON.parse(files.get("manifest.json")!.toString()) as { Layers: string[] }[];
  const out: Entry[][] = [];
  for (const l of manifest[0]!.Layers) {
    const list: Entry[] = [];
    const lx = extract();
    const p = (async () => {
      for await (const e of lx) {
        const h = createHash("sha256");
        let size = 0;
        for await (const c of e) {
          h.update(c as Buffer);
          size += (c as Buffer).length;
        }
        const hd = e.header;
        list.push({ name: hd.name.replace(/^\.\//, "").replace(/\/$/, ""), type: hd.type ?? "", mode: ((hd.mode ?? 0) & 0o7777).toString(8), uid: hd.uid ?? 0, gid: hd.gid ?? 0, size, sha: size ? h.digest("hex").slice(0, 16) : "", link: hd.linkname ?? "" });
      }
    })();
    lx.end(files.get(l) ?? files.get(`blobs/sha256/${l.split("/").at(-1)}`));
    await p;
    out.push(list.filter((e) => e.name !== "").sort((a, b) => a.name.localeCompare(b.name)));
  }
  return out;
}

describe.skipIf(!!skip)("differential build: dockerd's classic builder vs ctr", () => {
  let reg: RunningRegistry;
  let bb: string;
  let ctr: TestDaemon;
  let dkr: TestDockerd;
  beforeAll(async () => {
    ({ reg, bb, ctr, dkr } = await startPeers());
  });
  afterAll(async () => {
    await stopPeers({ reg, ctr, dkr });
  });

  const env = { DOCKER_BUILDKIT: "0" };
  const buildBoth = async (name: string, args: string[]) =>
    Promise.all([dkr.docker(["build", "-t", `diff-${name}`, ...args], { env }), run(["docker", "-H", ctr.host, "build", "-t", `diff-${name}`, ...args], { env })]);

  const compare = async (scenario: string) => {
    const ref = `diff-${scenario}`;
    const norm = (s: string) => normalise(JSON.parse(s), { replace: { [reg.host]: "<registry>" } });
    const [dc, cc] = await Promise.all([dkr.docker(["image", "inspect", "-f", "{{json .Config}}", ref]), ctr.docker(["image", "inspect", "-f", "{{json .Config}}", ref])]);
    const cfgDiff = differences(norm(dc.stdout), norm(cc.stdout)).filter((p) => !intended(`build/${scenario}/Config.${p}`));
    expect(cfgDiff).toEqual([]);
    const hist = async (h: string) =>
      (await run(["docker", "-H", h, "history", "--no-trunc", "--format", "{{.CreatedBy}}", ref])).stdout
        .trimEnd()
        .split("\n")
        .reverse()
        .map((s) => (intended("build/history/content-hash") ? s.replace(/(file|dir|multi):[0-9a-f]{64}/g, "$1:<hash>") : s));
    const [dh, ch] = await Promise.all([hist(dkr.host), hist(ctr.host)]);
    expect(ch).toEqual(dh);
    const [dl, cl] = await Promise.all([layersOf(dkr.host, ref), layersOf(ctr.host, ref)]);
    expect(cl.length).toBe(dl.length);
    for (let i = 0; i < dl.length; i++) {
      const key = (e: Entry) => JSON.stringify(e);
      const d = new Set(dl[i]!.map(key));
      const c = new Set(cl[i]!.map(key));
      const onlyD = [...d].filter((x) => !c.has(x)).filter((x) => !intended(`build/${scenario}/layer/${(JSON.parse(x) as Entry).name}`));
      const onlyC = [...c].filter((x) => !d.has(x)).filter((x) => !intended(`build/${scenario}/layer/${(JSON.parse(x) as Entry).name}`));
      expect({ layer: i, dockerd: onlyD, ctr: onlyC }).toEqual({ layer: i, dockerd: [], ctr: [] });
    }
  };

  test("app image: config, history, layers", async () => {
    const [d, c] = await buildBoth("app", ["--build-arg", `BASE=${bb}`, "--build-arg", "APP_VERSION=2", fixture("app")]);
    expect([d.code, c.code, d.stderr.split("\n").at(-2)]).toEqual([0, 0, ""]);
    await compare("app");
  });

  test("three stages with COPY --from", async () => {
    const [d, c] = await buildBoth("multi", ["--build-arg", `BASE=${bb}`, fixture("multi")]);
    expect([d.code, c.code]).toEqual([0, 0]);
    await compare("multi");
  });

  test("COPY/ADD destination rules, WORKDIR, legacy ENV, shell-form ENTRYPOINT/CMD", async () => {
    const [d, c] = await buildBoth("rules", ["--build-arg", `BASE=${bb}`, fixture("rules")]);
    expect([d.code, c.code, c.stderr.split("\n").at(-2)]).toEqual([0, 0, ""]);
    await compare("rules");
  });

  test("failures: the same messages and exit codes", async () => {
    const cases: [string, string[], string?][] = [
      ["fail", ["--build-arg", `BASE=${bb}`, fixture("fail")]],
      ["unknown", [fixture("unknown")]],
      ["missing", ["-f", "-", fixture("fail")], `FROM ${bb}\nCOPY nothere.txt /x\n`],
      ["no-stage", ["-f", "-", fixture("fail")], `FROM ${bb}\nCOPY --from=${reg.host}/nosuch:1 /x /x\n`],
      ["bad-flag", ["-f", "-", fixture("fail")], `FROM ${bb}\nCOPY --nope=1 a /b\n`],
      ["bad-target", ["--target", "nope", fixture("multi")]],
      ["no-from", ["-f", "-", fixture("fail")], `RUN true\n`],
    ];
    for (const [name, args, stdin] of cases) {
      const [d, c] = await Promise.all([dkr.docker(["build", ...args], { env, stdin }), run(["docker", "-H", ctr.host, "build", ...args], { env, stdin })]);
      const last = (s: string) => s.trimEnd().split("\n").at(-1)!.replaceAll(reg.host, "<registry>");
      if (!intended(`build/errors/${name}`)) expect({ name, code: c.code, err: last(c.stderr) }).toEqual({ name, code: d.code, err: last(d.stderr) });
    }
  });
});
