// A Kubernetes pod as cri-dockerd makes it (and Nomad's task group with its pause
// container): a sandbox with IpcMode shareable, Sysctls and OomScoreAdj, then a
// container joined to its network, IPC and PID namespaces. Replayed through the
// API on ctr and on Debian's dockerd 20.10; the answers must agree.
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { intended } from "../../differential/intended-differences.ts";
import { createOn, replaySkip, useSides, type Side } from "./sides.ts";

setDefaultTimeout(120_000);
const skip = replaySkip("pod replays");

const NAMES = ["pod-sb", "pod-app", "pod-priv", "pod-joiner", "pod-bad-sysctl", "pod-host-sysctl"];

describe.skipIf(!!skip)("pod replays: sandbox + joined container", () => {
  const peers = useSides(NAMES);
  const create = (s: Side, name: string, body: Record<string, unknown>) => createOn(s, peers.bb, name, body);

  test("the joiner shares the sandbox's net, ipc and pid namespaces, takes its hostname, sees its sysctls; OomScoreAdj applies to each", async () => {
    const seen: string[] = [];
    for (const s of peers.all) {
      // cri-dockerd's sandbox: pause with Hostname, IpcMode shareable, NetworkMode none, pod sysctls, OomScoreAdj -998.
      const sb = await create(s, "pod-sb", {
        Hostname: "podhost",
        Cmd: ["sleep", "300"],
        HostConfig: {
          NetworkMode: "none",
          IpcMode: "shareable",
          // kubelet gives -998; this VM lacks CAP_SYS_RESOURCE, needed to go below 0 (proc(5)), so a positive value here.
          OomScoreAdj: 200,
          Sysctls: { "kernel.shmmax": "123456", "net.ipv4.ping_group_range": "0 2147483647" },
          SecurityOpt: ["no-new-privileges"],
        },
      });
      expect(await s.api("POST", `/containers/${sb}/start`)).toMatchObject({ status: 204 });
      const join = `container:${sb}`;
      await create(s, "pod-app", {
        Cmd: ["sh", "-c", "hostname; cat /etc/hostname; cat /proc/sys/kernel/shmmax /proc/sys/net/ipv4/ping_group_range; cat /proc/1/oom_score_adj /proc/self/oom_score_adj; ps -o comm | sed -n 2p; for n in net ipc pid; do readlink /proc/self/ns/$n; done"],
        HostConfig: { NetworkMode: join, IpcMode: join, PidMode: join, OomScoreAdj: 500 },
      });
      const r = await s.docker(["start", "-a", "pod-app"]);
      expect({ side: s.name, ...r }).toMatchObject({ side: s.name, code: 0 });
      const lines = r.stdout.trim().split("\n");
      const sbNs = (await s.docker(["exec", "pod-sb", "sh", "-c", "for n in net ipc pid; do readlink /proc/self/ns/$n; done"])).stdout.trim().split("\n");
      // The namespace inodes differ between daemons; that they equal the sandbox's is the point.
      expect(lines.slice(-3)).toEqual(sbNs);
      seen.push(lines.slice(0, -3).join("\n"));
      const ins = (await s.api("GET", "/containers/pod-app/json")).body;
      expect(ins.Config.Hostname).toBe("podhost");
    }
    expect(seen[0]).toBe(["podhost", "podhost", "123456", "0\t2147483647", "200", "500", "sleep"].join("\n"));
    for (const x of seen) expect(x).toBe(seen[0]!);
  });

  test("joining the IPC of a non-shareable container is refused with dockerd's message", async () => {
    const msgs: string[] = [];
    for (const s of peers.all) {
      const priv = await create(s, "pod-priv", { Cmd: ["sleep", "300"] });
      expect((await s.api("POST", `/containers/${priv}/start`)).status).toBe(204);
      const j = await create(s, "pod-joiner", { Cmd: ["true"], HostConfig: { IpcMode: `container:${priv}` } });
      const r = await s.api("POST", `/containers/${j}/start`);
      expect(r.status).toBeGreaterThanOrEqual(400);
      msgs.push(r.body.message.replaceAll(priv, "<donor>"));
    }
    expect(msgs[0]).toBe("can't join IPC of container <donor>: non-shareable IPC (hint: use IpcMode:shareable for the donor container)");
    for (const m of msgs) expect(m).toBe(msgs[0]!);
  });

  test("a sysctl outside the container's namespaces fails the start with runc's words", async () => {
    for (const s of peers.all) {
      const cases: [string, Record<string, unknown>, string][] = [
        ["pod-bad-sysctl", { Sysctls: { "vm.swappiness": "10" } }, 'sysctl "vm.swappiness" is not in a separate kernel namespace'],
        ["pod-host-sysctl", { NetworkMode: "host", Sysctls: { "net.ipv4.ip_forward": "1" } }, 'sysctl "net.ipv4.ip_forward" not allowed in host network namespace'],
      ];
      for (const [name, hc, words] of cases) {
        const id = await create(s, name, { Cmd: ["true"], HostConfig: hc });
        const r = await s.api("POST", `/containers/${id}/start`);
        expect(r.status).toBeGreaterThanOrEqual(400);
        expect(r.body.message).toContain(words);
        // dockerd wraps runc's sentence in the shim's words; ctr says runc's sentence alone.
        if (s.name === "ctr") expect(r.body.message).toBe(words);
        else expect(intended("orchestrators/sysctl-refused/message")).toBe(true);
      }
    }
  });

  test("Mounts[].BindOptions.CreateMountpoint (API 1.44) makes a missing bind source; dockerd 20.10 (API 1.41) is too old and refuses", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ctr-orch-"));
    try {
      for (const s of peers.all) {
        const src = join(dir, s.name, "hostpath");
        const r = await s.api("POST", "/containers/create?name=pod-mountpoint", {
          Image: peers.bb,
          Cmd: ["sh", "-c", "echo made > /x/f"],
          HostConfig: { Mounts: [{ Type: "bind", Source: src, Target: "/x", BindOptions: { CreateMountpoint: true } }] },
        });
        if (s.name === "dockerd") {
          expect(r.body.message).toBe(`invalid mount config for type "bind": bind source path does not exist: ${src}`);
          continue;
        }
        expect(r.status).toBe(201);
        expect((await s.docker(["start", "-a", "pod-mountpoint"])).code).toBe(0);
        expect(readFileSync(join(src, "f"), "utf8")).toBe("made\n");
        expect(statSync(src).isDirectory()).toBe(true);
      }
    } finally {
      for (const s of peers.all) await s.docker(["rm", "-f", "pod-mountpoint"]);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
