// Isolation probes from inside containers, each its own test, run against ctr
// and — where dockerd behaves the same — against Debian's dockerd too, with
// the same docker CLI: seccomp mode, user namespaces, keyrings, perf events,
// custom and unconfined profiles, --security-opt validation, setuid and
// no-new-privileges, devices, ulimits.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { hasDocker, isRoot, startDaemon, type RunResult, type TestDaemon } from "../../helpers/daemon.ts";
import { dockerdSkipReason, startDockerd, type TestDockerd } from "../../helpers/dockerd.ts";
import { seedBusybox, startRegistry, type RunningRegistry } from "../../helpers/registry.ts";
import { buildProbe, haveCompiler, hostBlockDevice, type Probe } from "./probe.ts";
import { intended } from "../../differential/intended-differences.ts";
import { detectCgroupVersion } from "../../../src/kernel/cgroups/detect.ts";

/** dockerd adds name=cgroupns on cgroup v2 hosts; so do we. */
const cgroupns = detectCgroupVersion() === 2 ? ["name=cgroupns"] : [];

setDefaultTimeout(120_000);
const skip = !isRoot ? "needs root" : !hasDocker ? "needs the docker CLI" : !haveCompiler ? "needs gcc and libc6-dev (static probe)" : undefined;
if (skip) console.warn(`skip: security probes: ${skip}`);
const differential = !skip && !dockerdSkipReason;
if (!skip && dockerdSkipReason) console.warn(`skip: security probes against dockerd: ${dockerdSkipReason}`);

describe.skipIf(!!skip)("security probes", () => {
  let reg: RunningRegistry;
  let bb: string;
  let ctr: TestDaemon;
  let dkr: TestDockerd | undefined;
  let probe: Probe;
  beforeAll(async () => {
    probe = buildProbe();
    reg = await startRegistry();
    bb = await seedBusybox(reg.host);
    [ctr, dkr] = await Promise.all([startDaemon(), differential ? startDockerd() : Promise.resolve(undefined)]);
    await Promise.all([ctr.docker(["pull", "-q", bb]), dkr?.docker(["pull", "-q", bb])]);
  });
  afterAll(async () => {
    await Promise.all([ctr?.[Symbol.asyncDispose](), dkr?.[Symbol.asyncDispose]()]);
    await reg?.stop();
    probe?.dispose();
  });

  /** `docker run --rm` with the probe dir mounted at /p, on ctr and (when asked) on dockerd. */
  const run = async (opts: string[], cmd: string[], both = true): Promise<{ ctr: RunResult; dockerd?: RunResult }> => {
    const args = ["run", "--rm", "-v", `${probe.dir}:/p`, ...opts, bb, ...cmd];
    const [c, d] = await Promise.all([ctr.docker(args), both && dkr ? dkr.docker(args) : undefined]);
    return { ctr: c, dockerd: d };
  };
  /** Asserts ctr's answer, and that dockerd's is the same. */
  const expectBoth = (r: { ctr: RunResult; dockerd?: RunResult }, want: Partial<RunResult>) => {
    expect(r.ctr).toMatchObject(want);
    if (r.dockerd) expect(r.dockerd).toMatchObject(want);
  };

  test("a default container runs in seccomp filter mode without no_new_privs", async () => {
    const r = await run([], ["grep", "-E", "^(Seccomp|NoNewPrivs):", "/proc/self/status"]);
    expectBoth(r, { code: 0, stdout: "NoNewPrivs:\t0\nSeccomp:\t2\n" });
  });

  test("creating a user namespace is refused (unshare -U)", async () => {
    expectBoth(await run([], ["/p/probe", "unshare-user"]), { code: 1, stdout: "EPERM\n" });
  });

  test("add_key is refused", async () => {
    expectBoth(await run([], ["/p/probe", "add-key"]), { code: 1, stdout: "EPERM\n" });
  });

  test("a key in the host root's keyring cannot be read from a container; unconfined it could", async () => {
    const add = Bun.spawnSync([probe.bin, "host-key", `ctr-test-${process.pid}`, "host-secret"]);
    const serial = add.stdout.toString().trim();
    expect(serial).toMatch(/^\d+$/);
    try {
      expectBoth(await run([], ["/p/probe", "keyctl-read", serial]), { code: 1, stdout: "EPERM\n" });
      // The same read without the filter succeeds: the probe above can fail.
      const open = await run(["--security-opt", "seccomp=unconfined"], ["/p/probe", "keyctl-read", serial], false);
      expect(open.ctr).toMatchObject({ code: 0, stdout: "read:host-secret\nok\n" });
    } finally {
      Bun.spawnSync([probe.bin, "revoke", serial]);
    }
  });

  test("perf_event_open is refused", async () => {
    expectBoth(await run([], ["/p/probe", "perf"]), { code: 1, stdout: "EPERM\n" });
  });

  test("a custom profile is honoured (mkdir refused, Seccomp 2)", async () => {
    const profile = join(probe.dir, "no-mkdir.json");
    writeFileSync(profile, JSON.stringify({ defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO", errnoRet: 13 }] }));
    const r = await run(["--security-opt", `seccomp=${profile}`], ["sh", "-c", "grep ^Seccomp: /proc/self/status; mkdir /x 2>&1; /p/probe unshare-user"]);
    expectBoth(r, { code: 0, stdout: "Seccomp:\t2\nmkdir: can't create directory '/x': Permission denied\nok\n" });
  });

  test("seccomp=unconfined runs without a filter; --privileged too", async () => {
    expectBoth(await run(["--security-opt", "seccomp=unconfined"], ["sh", "-c", "grep ^Seccomp: /proc/self/status; /p/probe unshare-user"]), { code: 0, stdout: "Seccomp:\t0\nok\n" });
    // dockerd cannot run --privileged in every sandbox (it asks for capabilities the host may not grant): ctr only.
    const p = await run(["--privileged"], ["grep", "^Seccomp:", "/proc/self/status"], false);
    expect(p.ctr).toMatchObject({ code: 0, stdout: "Seccomp:\t0\n" });
  });

  test("an unknown --security-opt is refused with dockerd's message", async () => {
    const r = await run(["--security-opt", "foo=bar"], ["true"]);
    for (const x of [r.ctr, r.dockerd].filter(Boolean) as RunResult[]) {
      expect(x.code).toBe(125);
      expect(x.stderr).toContain('Error response from daemon: invalid --security-opt 2: "foo=bar"');
    }
    const bad = await run(["--security-opt", "no-new-privileges=maybe"], ["true"]);
    expect(bad.ctr.stderr).toContain('invalid --security-opt 2: "no-new-privileges=maybe"');
    if (bad.dockerd) expect(bad.dockerd.stderr).toContain('invalid --security-opt 2: "no-new-privileges=maybe"');
    // The API status: 400 here, 500 from dockerd 20.10 (listed).
    const body = JSON.stringify({ Image: bb, HostConfig: { SecurityOpt: ["foo=bar"] } });
    const post = (sock: string) => fetch("http://d/v1.41/containers/create", { unix: sock, method: "POST", headers: { "content-type": "application/json" }, body } as RequestInit);
    const [cs, ds] = await Promise.all([post(ctr.sock), dkr ? post(dkr.sock) : undefined]);
    expect([cs.status, await cs.json()]).toEqual([400, { message: 'invalid --security-opt 2: "foo=bar"' }]);
    if (ds && ds.status !== cs.status) expect(intended("security/invalid-security-opt/status")).toBe(true);
    // Beyond dockerd (which ignores them where the LSM is off): confinement this host cannot give is refused.
    const aa = await run(["--security-opt", "apparmor=my-profile"], ["true"]);
    expect(aa.ctr.stderr).toContain("AppArmor is not enabled on this host");
    if (aa.dockerd && aa.dockerd.code !== aa.ctr.code) expect(intended("security/apparmor-unavailable/refused")).toBe(true);
    const se = await run(["--security-opt", "label=type:foo_t"], ["true"]);
    expect(se.ctr.stderr).toContain("SELinux is not enabled on this host");
    if (se.dockerd && se.dockerd.code !== se.ctr.code) expect(intended("security/label-unavailable/refused")).toBe(true);
    // Nothing to give, nothing refused.
    expectBoth(await run(["--security-opt", "apparmor=unconfined", "--security-opt", "label=disable"], ["true"]), { code: 0 });
  });

  test("--userns=host runs; another UsernsMode is refused (dockerd ignores it: listed)", async () => {
    expectBoth(await run(["--userns", "host"], ["true"]), { code: 0 });
    const body = JSON.stringify({ Image: bb, Cmd: ["true"], HostConfig: { UsernsMode: "auto" } });
    const r = await fetch("http://d/v1.41/containers/create", { unix: ctr.sock, method: "POST", headers: { "content-type": "application/json" }, body } as RequestInit);
    expect(r.status).toBe(400);
    expect(((await r.json()) as { message: string }).message).toContain("needs a daemon started with --userns-remap");
    expect(intended("security/userns-mode/refused")).toBe(true);
    const cli = await run(["--userns", "foo"], ["true"]);
    for (const x of [cli.ctr, cli.dockerd].filter(Boolean) as RunResult[]) expect([x.code, x.stderr]).toEqual([125, expect.stringContaining("--userns: invalid USER mode")]);
  });

  test("inspect shows SecurityOpt as sent, the profile's JSON included", async () => {
    const profile = join(probe.dir, "inspect.json");
    writeFileSync(profile, JSON.stringify({ defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["mkdir"], action: "SCMP_ACT_ERRNO" }] }, null, 2));
    const name = `sec-inspect-${process.pid}`;
    const args = ["create", "--name", name, "--security-opt", `seccomp=${profile}`, "--security-opt", "no-new-privileges", bb, "true"];
    const [c, d] = await Promise.all([ctr.docker(args), dkr?.docker(args)]);
    try {
      expect(c.code).toBe(0);
      const show = ["inspect", "-f", "{{json .HostConfig.SecurityOpt}}", name];
      const [ci, di] = await Promise.all([ctr.docker(show), d ? dkr!.docker(show) : undefined]);
      expect(JSON.parse(ci.stdout)).toEqual([`seccomp=${JSON.stringify(JSON.parse(readFileSync(profile, "utf8")))}`, "no-new-privileges"]);
      if (di) expect(JSON.parse(ci.stdout)).toEqual(JSON.parse(di.stdout));
    } finally {
      await Promise.all([ctr.docker(["rm", "-f", name]), dkr?.docker(["rm", "-f", name])]);
    }
  });

  test("an unloadable profile is refused at create", async () => {
    const bad = JSON.stringify({ Image: bb, HostConfig: { SecurityOpt: [`seccomp=${JSON.stringify({ defaultAction: "SCMP_ACT_FOO" })}`] } });
    const r = await fetch("http://d/v1.41/containers/create", { unix: ctr.sock, method: "POST", headers: { "content-type": "application/json" }, body: bad } as RequestInit);
    expect(r.status).toBe(400);
    expect(((await r.json()) as { message: string }).message).toContain("SCMP_ACT_FOO is not a valid action for seccomp");
    expect(intended("security/seccomp-profile/validated-at-create")).toBe(true);
  });

  test("setuid works by default and not with no-new-privileges", async () => {
    expectBoth(await run(["-u", "nobody"], ["/p/probe-suid", "euid"]), { code: 0, stdout: "0\n" });
    expectBoth(await run(["-u", "nobody", "--security-opt", "no-new-privileges"], ["/p/probe-suid", "euid"]), { code: 0, stdout: "65534\n" });
    expectBoth(await run(["-u", "nobody", "--security-opt", "no-new-privileges=false"], ["/p/probe-suid", "euid"]), { code: 0, stdout: "0\n" });
  });

  test("mknod of a host block device works (CAP_MKNOD) but opening it is refused (v1 devices cgroup here); /dev/null opens", async () => {
    const dev = hostBlockDevice();
    expect(dev).not.toBeNull();
    const [ma, mi] = dev!;
    expectBoth(await run([], ["sh", "-c", `/p/probe mknod-open /tmp/disk ${ma} ${mi}; /p/probe open /dev/null`]), { code: 0, stdout: "mknod:ok open:EPERM\nok\n" });
    // The host's root can open it, and so can a privileged container: the probe can fail.
    const p = await run(["--privileged"], ["/p/probe", "mknod-open", "/tmp/disk", String(ma), String(mi)], false);
    expect(p.ctr).toMatchObject({ code: 0, stdout: "mknod:ok open:ok\n" });
  });

  test("ulimits are applied", async () => {
    expectBoth(await run(["--ulimit", "nofile=100:200", "--ulimit", "nproc=50"], ["sh", "-c", "ulimit -n; ulimit -Hn; ulimit -u"]), { code: 0, stdout: "100\n200\n50\n" });
    const bad = await run(["--ulimit", "nofile=200:100"], ["true"]);
    for (const x of [bad.ctr, bad.dockerd].filter(Boolean) as RunResult[]) {
      expect(x.code).toBe(125);
      expect(x.stderr).toContain('invalid argument "nofile=200:100" for "--ulimit" flag: ulimit soft limit must be less than or equal to hard limit: 200 > 100');
    }
  });

  test("/sys/fs/cgroup shows the container's own limits, read-only", async () => {
    const v1 = (await run([], ["test", "-d", "/sys/fs/cgroup/memory"], false)).ctr.code === 0;
    const files = v1 ? "/sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/pids/pids.max" : "/sys/fs/cgroup/memory.max /sys/fs/cgroup/cpu.max /sys/fs/cgroup/pids.max";
    const want = v1 ? "67108864\n50000\n77\n" : "67108864\n50000 100000\n77\n";
    const pidsMax = v1 ? "/sys/fs/cgroup/pids/pids.max" : "/sys/fs/cgroup/pids.max";
    const r = await run(["-m", "64m", "--cpus", "0.5", "--pids-limit", "77"], ["sh", "-c", `cat ${files}; (echo 1 > ${pidsMax}) 2>/dev/null || echo read-only`]);
    expectBoth(r, { code: 0, stdout: want + "read-only\n" });
  });

  test("exec runs under the container's filter", async () => {
    const name = `sec-exec-${process.pid}`;
    await ctr.docker(["run", "-d", "--name", name, "-v", `${probe.dir}:/p`, bb, "sleep", "60"]);
    try {
      const r = await ctr.docker(["exec", name, "/p/probe", "unshare-user"]);
      expect(r).toMatchObject({ code: 1, stdout: "EPERM\n" });
    } finally {
      await ctr.docker(["rm", "-f", name]);
    }
  });

  test("info lists the security options as dockerd does", async () => {
    const [c, d] = await Promise.all([ctr.docker(["info", "--format", "{{json .SecurityOptions}}"]), dkr?.docker(["info", "--format", "{{json .SecurityOptions}}"])]);
    expect(JSON.parse(c.stdout)).toEqual(["name=seccomp,profile=default", ...cgroupns]);
    if (d) expect(JSON.parse(d.stdout)).toEqual(JSON.parse(c.stdout));
  });
});

describe.skipIf(!!skip)("daemon security defaults", () => {
  let reg: RunningRegistry;
  let bb: string;
  let probe: Probe;
  beforeAll(async () => {
    probe = buildProbe();
    reg = await startRegistry();
    bb = await seedBusybox(reg.host);
  });
  afterAll(async () => {
    await reg?.stop();
    probe?.dispose();
  });

  test("--no-new-privileges, --default-ulimit and --seccomp-profile apply to every container", async () => {
    const profile = join(probe.dir, "allow-all.json");
    writeFileSync(profile, JSON.stringify({ defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["add_key"], action: "SCMP_ACT_ERRNO", errnoRet: 38 }] }));
    await using d = await startDaemon(["--no-new-privileges", "--default-ulimit", "nofile=321:654", "--seccomp-profile", profile]);
    await d.docker(["pull", "-q", bb]);
    const r = await d.docker(["run", "--rm", "-v", `${probe.dir}:/p`, bb, "sh", "-c", "grep ^NoNewPrivs: /proc/self/status; ulimit -n; ulimit -Hn; /p/probe add-key; /p/probe unshare-user"]);
    expect(r).toMatchObject({ code: 0, stdout: "NoNewPrivs:\t1\n321\n654\nENOSYS\nok\n" });
    // A container's own --ulimit wins over the daemon's default.
    const own = await d.docker(["run", "--rm", "--ulimit", "nofile=50", bb, "sh", "-c", "ulimit -n"]);
    expect(own.stdout).toBe("50\n");
    const info = await d.docker(["info", "--format", "{{json .SecurityOptions}}"]);
    expect(JSON.parse(info.stdout)).toEqual([`name=seccomp,profile=${profile}`, ...cgroupns, "name=no-new-privileges"]);
  });
});
