// Nomad computes a container's cgroup from /info's CgroupDriver (cgroupfs) and
// the parent it was configured with: /sys/fs/cgroup/<controller>/<parent>/<id>
// on v1, /sys/fs/cgroup/<parent>/<id> on v2. `ctr daemon --cgroup-parent docker`
// gives dockerd's own layout; here a parent of the test's own, removed at the end.
// HostConfig.CgroupParent per container (absolute: from the hierarchy's root;
// relative: below the daemon's own cgroup, as runc's cgroupfs driver) is compared
// with dockerd, and found again by a daemon that restarts after a kill -9.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CLI, run, startDaemon, until, type TestDaemon } from "../../helpers/daemon.ts";
import { startDockerd } from "../../helpers/dockerd.ts";
import { intended } from "../../differential/intended-differences.ts";
import { parseProcCgroup } from "../../../src/kernel/cgroups/placement.ts";
import { createOn, replaySkip, useSides } from "./sides.ts";

setDefaultTimeout(120_000);
const skip = replaySkip("cgroup layout");

const CG = "/sys/fs/cgroup";
const v2 = existsSync(join(CG, "cgroup.controllers"));
/** The hierarchies ctr manages (v1); runc also joins name=systemd and a hybrid's empty unified, which ctr leaves alone. */
const MANAGED = ["cpuset", "memory", "pids", "cpu", "cpuacct", "blkio", "devices", "freezer"];
const own = parseProcCgroup(readFileSync("/proc/self/cgroup", "utf8"));
/** Where a tool that trusts CgroupDriver=cgroupfs looks for the container. */
const cgroupDirs = (parent: string, id: string) =>
  v2 ? [join(CG, parent, id)] : ["cpuset", "memory", "pids", "cpu"].map((c) => join(CG, c, parent, id)).filter((d) => existsSync(join(d, "..", "..")));

/** Removes a parent cgroup (and what is left below it) in every hierarchy; relative ones below our own cgroup. */
function removeParent(parent: string): void {
  const tops = v2 ? [["", CG]] : readdirSync(CG).map((c) => [c, join(CG, c)]);
  for (const [name, top] of tops) {
    const base = parent.startsWith("/") ? "/" : (own.get(name!.split(",")[0]!) ?? own.get(name!) ?? "/");
    const p = join(top!, base, parent);
    if (!existsSync(p)) continue;
    for (const e of readdirSync(p, { withFileTypes: true })) if (e.isDirectory()) rmdirSync(join(p, e.name));
    rmdirSync(p);
  }
}

/** /proc/self/cgroup lines of the hierarchies ctr manages, the container id replaced. */
const managedLines = (text: string, id: string) =>
  text
    .split("\n")
    .filter(Boolean)
    .filter((l) => (v2 ? l.startsWith("0::") : (l.split(":")[1] ?? "").split(",").some((c) => MANAGED.includes(c))))
    .map((l) => l.replaceAll(id, "<id>").replace(/^\d+/, ""))
    .sort();

describe.skipIf(!!skip)("cgroup layout as CgroupDriver says", () => {
  const parent = `orch${process.pid}`;
  const abs = `/orchabs${process.pid}`;
  const rel = `orchrel${process.pid}`;
  const s = useSides(["cg-abs", "cg-rel", "cg-restart"], { ctrArgs: ["--cgroup-parent", `/${parent}`] });
  let d: TestDaemon;
  beforeAll(() => {
    d = s.ctr;
  });
  // The parents themselves (and warm-init leftovers, if any) go with the test, after the daemons.
  afterAll(() => {
    for (const p of [`/${parent}`, abs, rel]) removeParent(p);
  });

  test("/info says cgroupfs; the container's pid is in <controller>/<parent>/<id>; rm removes it", async () => {
    const info = await d.client.json<{ CgroupDriver: string }>("GET", "/info");
    expect(info.CgroupDriver).toBe("cgroupfs");
    const id = (await d.ctr(["run", "-d", s.bb, "sleep", "300"])).stdout.trim();
    const pid = Number((await d.ctr(["inspect", "-f", "{{.State.Pid}}", id])).stdout.trim());
    const dirs = cgroupDirs(parent, id);
    expect(dirs.length).toBeGreaterThan(0);
    for (const dir of dirs) expect(readFileSync(join(dir, "cgroup.procs"), "utf8").split("\n")).toContain(String(pid));
    expect((await d.ctr(["rm", "-f", id])).code).toBe(0);
    for (const dir of dirs) expect(existsSync(dir)).toBe(false);
  });

  test("HostConfig.CgroupParent: absolute from the hierarchy's root, relative below the daemon's own cgroup; as dockerd", async () => {
    const seen: string[][][] = [];
    for (const side of s.all) {
      const per: string[][] = [];
      for (const [name, cp] of [["cg-abs", abs], ["cg-rel", `${rel}/../../${rel}`]] as const) {
        const id = await createOn(side, s.bb, name, { Cmd: ["sleep", "300"], HostConfig: { CgroupParent: cp } });
        expect((await side.api("POST", `/containers/${id}/start`)).status).toBe(204);
        // Seen from the host (a container's own view depends on its cgroup namespace mode).
        const pid = (await side.api("GET", `/containers/${id}/json`)).body.State.Pid as number;
        per.push(managedLines(readFileSync(`/proc/${pid}/cgroup`, "utf8"), id));
        await side.docker(["rm", "-f", name]);
      }
      seen.push(per);
    }
    const base = (c: string) => (own.get(c) ?? "/").replace(/\/$/, "");
    const want = (v2 ? [""] : MANAGED).map((c) => `:${c}:${abs}/<id>`);
    expect(seen[0]![0]).toEqual(want.sort());
    expect(seen[0]![1]).toEqual((v2 ? [`::${base("")}/${rel}/<id>`] : MANAGED.map((c) => `:${c}:${base(c)}/${rel}/<id>`)).sort());
    for (const x of seen) expect(x).toEqual(seen[0]!);
  });

  test("a daemon killed -9 and started again finds a container below its own CgroupParent: kills it, removes its cgroup", async () => {
    const id = await createOn(s.all[0]!, s.bb, "cg-restart", { Cmd: ["sleep", "300"], HostConfig: { CgroupParent: abs } });
    expect((await d.docker(["start", "cg-restart"])).code).toBe(0);
    const pid = Number((await d.docker(["inspect", "-f", "{{.State.Pid}}", id])).stdout.trim());
    const dirs = cgroupDirs(abs, id);
    expect(dirs.length).toBeGreaterThan(0);
    for (const dir of dirs) expect(readFileSync(join(dir, "cgroup.procs"), "utf8").split("\n")).toContain(String(pid));
    await d.kill9();
    d = await startDaemon(["--cgroup-parent", `/${parent}`], { dir: d.dir });
    s.ctr = d;
    s.all[0] = { ...s.all[0]!, docker: (a) => d.docker(a) };
    await until(() => !existsSync(`/proc/${pid}`), "the left container to be killed");
    for (const dir of dirs) expect(existsSync(dir)).toBe(false);
    expect((await d.docker(["inspect", "-f", "{{.State.ExitCode}}", id])).stdout.trim()).toBe("137");
  });

  test.skipIf(existsSync("/run/systemd/system"))("native.cgroupdriver=systemd without systemd: ctr refuses to start with runc's words, which dockerd answers each container start", async () => {
    const words = "systemd not running on this host, cannot use systemd cgroups manager";
    const dir = mkdtempSync(join(tmpdir(), "ctr-sd-"));
    try {
      const r = await run([process.execPath, CLI, "daemon", "--root", join(dir, "root"), "--exec-root", join(dir, "run"), "-H", `unix://${join(dir, "s.sock")}`, "--bridge", `sd${process.pid % 100000}`, "--exec-opt", "native.cgroupdriver=systemd"]);
      expect([r.code !== 0, r.stderr.trim()]).toEqual([true, `Error: ${words}`]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    if (!s.dkr) return;
    const dk = await startDockerd({ extra: ["--exec-opt", "native.cgroupdriver=systemd"] });
    try {
      expect((await dk.docker(["info", "-f", "{{.CgroupDriver}}"])).stdout.trim()).toBe("systemd");
      expect((await dk.docker(["pull", "-q", s.bb])).code).toBe(0);
      const started = await dk.docker(["run", "--rm", s.bb, "true"]);
      expect(started.stderr).toContain(`runc create failed: ${words}`);
      expect(intended("orchestrators/systemd-driver/when")).toBe(true);
    } finally {
      await dk[Symbol.asyncDispose]();
    }
  });
});
