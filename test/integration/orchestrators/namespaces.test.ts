// IpcMode (private, none, host, shareable + container: joiners with one /dev/shm),
// ShmSize, PidMode host and UTSMode host as a pod sandbox (cri-dockerd) or a
// Nomad task with ipc_mode/pid_mode/uts_mode asks for them, on ctr and dockerd.
import { existsSync, readFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { run, until } from "../../helpers/daemon.ts";
import { createOn, replaySkip, useSides } from "./sides.ts";

setDefaultTimeout(120_000);
const skip = replaySkip("namespace replays (ipc, shm, pid, uts)");

const NAMES = ["ns-donor", "ns-joiner", "ns-bogus", "ns-uts", "ns-pid"];
const mountedAt = (p: string) => readFileSync("/proc/self/mountinfo", "utf8").split("\n").some((l) => l.split(" ")[4] === p);
const shmLine = "grep ' /dev/shm ' /proc/mounts | cut -d' ' -f1,3,4";

describe.skipIf(!!skip)("namespace replays: ipc + /dev/shm, pid host, uts host", () => {
  const s = useSides(NAMES);

  /** The output of a one-off `docker run --rm` on every side, which must agree. */
  const agreed = async (args: string[]): Promise<string> => {
    const outs: string[] = [];
    for (const side of s.all) {
      const r = await side.docker(["run", "--rm", ...args]);
      expect({ side: side.name, code: r.code, stderr: r.stderr }).toEqual({ side: side.name, code: 0, stderr: "" });
      outs.push(r.stdout);
    }
    for (const o of outs) expect(o).toBe(outs[0]!);
    return outs[0]!;
  };

  test("private with --shm-size 10m: its own tmpfs of that size; none: no /dev/shm; host: the host's /dev/shm and ipc namespace", async () => {
    expect(await agreed(["--shm-size", "10m", s.bb, "sh", "-c", shmLine])).toBe("shm tmpfs rw,nosuid,nodev,noexec,relatime,size=10240k\n");
    expect(await agreed([s.bb, "sh", "-c", shmLine])).toBe("shm tmpfs rw,nosuid,nodev,noexec,relatime,size=65536k\n");
    expect(await agreed(["--ipc", "none", s.bb, "sh", "-c", `${shmLine}; test -e /dev/shm || echo absent`])).toBe("absent\n");
    const hostIpc = (await run(["readlink", "/proc/self/ns/ipc"])).stdout;
    const host = await agreed(["--ipc", "host", s.bb, "sh", "-c", "readlink /proc/self/ns/ipc; grep ' /dev/shm ' /proc/mounts | cut -d' ' -f1,3"]);
    const hostShm = readFileSync("/proc/self/mounts", "utf8").split("\n").find((l) => l.split(" ")[1] === "/dev/shm")?.split(" ");
    expect(host).toBe(`${hostIpc}${hostShm ? `${hostShm[0]} ${hostShm[2]}\n` : ""}`);
  });

  test("shareable donor and container: joiner share one /dev/shm of the donor's ShmSize; a host tmpfs under containers/<id>/mounts/shm, gone at stop", async () => {
    const seen: string[] = [];
    for (const side of s.all) {
      const donor = await createOn(side, s.bb, "ns-donor", { Cmd: ["sleep", "300"], HostConfig: { IpcMode: "shareable", ShmSize: 5 * 1024 * 1024 } });
      expect((await side.api("POST", `/containers/${donor}/start`)).status).toBe(204);
      const hostSide = side.name === "ctr" ? join(s.ctr.root, "containers", donor, "mounts", "shm") : join(s.dkr!.dir, "data", "containers", donor, "mounts", "shm");
      expect(mountedAt(hostSide)).toBe(true);
      await createOn(side, s.bb, "ns-joiner", {
        Cmd: ["sh", "-c", `${shmLine}; echo from-joiner > /dev/shm/posix-shm; readlink /proc/self/ns/ipc`],
        HostConfig: { IpcMode: `container:${donor}` },
      });
      const j = await side.docker(["start", "-a", "ns-joiner"]);
      expect(j.code).toBe(0);
      const [line, ns] = j.stdout.trim().split("\n");
      const d = await side.docker(["exec", "ns-donor", "sh", "-c", "cat /dev/shm/posix-shm; readlink /proc/self/ns/ipc"]);
      expect(d.stdout.trim().split("\n")).toEqual(["from-joiner", ns!]);
      // The host side holds what the containers wrote.
      expect(readFileSync(join(hostSide, "posix-shm"), "utf8")).toBe("from-joiner\n");
      const ins = (await side.api("GET", `/containers/${donor}/json`)).body.HostConfig;
      seen.push(`${line} ${ins.IpcMode} ${ins.ShmSize}`);
      expect((await side.docker(["stop", "-t", "0", "ns-donor"])).code).toBe(0);
      expect(mountedAt(hostSide)).toBe(false);
      expect((await side.docker(["rm", "-f", "ns-donor", "ns-joiner"])).code).toBe(0);
      expect(existsSync(hostSide)).toBe(false);
    }
    expect(seen[0]).toBe("shm tmpfs rw,nosuid,nodev,noexec,relatime,size=5120k shareable 5242880");
    for (const x of seen) expect(x).toBe(seen[0]!);
  });

  test("an unknown IpcMode fails the start (500, dockerd's words); a missing donor fails the create (400)", async () => {
    const answers: unknown[] = [];
    for (const side of s.all) {
      const id = await createOn(side, s.bb, "ns-bogus", { Cmd: ["true"], HostConfig: { IpcMode: "bogus" } });
      const r = await side.api("POST", `/containers/${id}/start`);
      const missing = [];
      for (const HostConfig of [{ IpcMode: "container:nosuch" }, { PidMode: "container:nosuch" }]) {
        const m = await side.api("POST", "/containers/create", { Image: s.bb, Cmd: ["true"], HostConfig });
        missing.push([m.status, m.body.message]);
      }
      answers.push([r.status, r.body.message, missing]);
      await side.docker(["rm", "-f", "ns-bogus"]);
    }
    expect(answers[0]).toEqual([500, "Invalid IPC mode: bogus", [[400, "No such container: nosuch"], [400, "No such container: nosuch"]]]);
    for (const a of answers) expect(a).toEqual(answers[0]!);
  });

  test("UTSMode host: the host's hostname, /etc/hostname and Config.Hostname the short id; a Hostname with it is refused", async () => {
    for (const side of s.all) {
      const id = await createOn(side, s.bb, "ns-uts", { Cmd: ["sh", "-c", "hostname; cat /etc/hostname"], HostConfig: { UTSMode: "host" } });
      const r = await side.docker(["start", "-a", "ns-uts"]);
      expect(r.stdout).toBe(`${hostname()}\n${id.slice(0, 12)}\n`);
      expect((await side.api("GET", `/containers/${id}/json`)).body.Config.Hostname).toBe(id.slice(0, 12));
      const bad = await side.api("POST", "/containers/create", { Image: s.bb, Hostname: "x", Cmd: ["true"], HostConfig: { UTSMode: "host" } });
      expect([bad.status, bad.body.message]).toEqual([400, "conflicting options: hostname and the UTS mode"]);
      await side.docker(["rm", "-f", "ns-uts"]);
    }
  });

  test("PidMode host: the host's pid namespace (pid 1 is the host's init, the container's command a host pid)", async () => {
    const hostPidNs = (await run(["readlink", "/proc/self/ns/pid"])).stdout.trim();
    const init = readFileSync("/proc/1/comm", "utf8").trim();
    for (const side of s.all) {
      const id = await createOn(side, s.bb, "ns-pid", { Cmd: ["sh", "-c", "readlink /proc/self/ns/pid; cat /proc/1/comm; sleep 300"], HostConfig: { PidMode: "host" } });
      expect((await side.api("POST", `/containers/${id}/start`)).status).toBe(204);
      const pid = (await side.api("GET", `/containers/${id}/json`)).body.State.Pid as number;
      // The container's pid 1 (the sh) is that host pid itself: /proc/<pid>/ns/pid is the host's.
      expect((await run(["readlink", `/proc/${pid}/ns/pid`])).stdout.trim()).toBe(hostPidNs);
      const ex = await side.docker(["exec", "ns-pid", "sh", "-c", `test -d /proc/${pid} && echo sees-itself`]);
      expect(ex.stdout).toBe("sees-itself\n");
      await until(async () => (await side.docker(["logs", id])).stdout.split("\n").length > 2, `${side.name}: ns-pid's output`);
      expect((await side.docker(["logs", id])).stdout).toBe(`${hostPidNs}\n${init}\n`);
      await side.docker(["rm", "-f", "ns-pid"]);
    }
  });
});
