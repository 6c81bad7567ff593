// cri-dockerd's and Nomad's calls, replayed on ctr and on Debian's dockerd 20.10:
// inspect with ?size=1 (cri-dockerd's stats loop dereferences SizeRw), loopback
// in `--network none` (the pod sandbox), and the 409 of a forced delete of an image
// a running container uses (Nomad's image GC treats it as "still in use").
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { until } from "../../helpers/daemon.ts";
import { createOn, replaySkip, useSides, type Side } from "./sides.ts";

setDefaultTimeout(120_000);
const skip = replaySkip("orchestrator replays (sizes, loopback, image GC)");

describe.skipIf(!!skip)("orchestrator replays: sizes, loopback, image GC", () => {
  const peers = useSides(["orch-size", "orch-gc", "orch-gc-stopped"]);
  const create = (s: Side, name: string, body: Record<string, unknown>) => createOn(s, peers.bb, name, body);

  test("inspect ?size=1 gives SizeRw (the rw layer's bytes) and SizeRootFs (image + rw), right after GraphDriver; list ?size=1 too", async () => {
    for (const s of peers.all) {
      const id = await create(s, "orch-size", { Cmd: ["sh", "-c", "head -c 12345 /dev/zero > /big && touch /ready && sleep 300"] });
      expect((await s.api("POST", `/containers/${id}/start`)).status).toBe(204);
      await until(async () => (await s.docker(["exec", "orch-size", "test", "-e", "/ready"])).code === 0, `${s.name}: /ready`);
      const plain = (await s.api("GET", `/containers/${id}/json`)).body;
      expect(plain.SizeRw).toBeUndefined();
      const sized = (await s.api("GET", `/containers/${id}/json?size=1`)).body;
      const img = (await s.api("GET", `/images/${encodeURIComponent(peers.bb)}/json`)).body;
      expect(sized.SizeRw).toBeGreaterThanOrEqual(12345);
      expect(sized.SizeRw).toBeLessThan(12345 + 4096);
      expect(sized.SizeRootFs).toBe(img.Size + sized.SizeRw);
      const keys = Object.keys(sized);
      expect(keys.slice(keys.indexOf("GraphDriver"), keys.indexOf("GraphDriver") + 3)).toEqual(["GraphDriver", "SizeRw", "SizeRootFs"]);
      const listed = (await s.api("GET", `/containers/json?size=1&filters=${encodeURIComponent(JSON.stringify({ name: ["orch-size"] }))}`)).body;
      expect(listed.map((c: any) => [c.SizeRw, c.SizeRootFs])).toEqual([[sized.SizeRw, sized.SizeRootFs]]);
      expect((await s.api("DELETE", `/containers/${id}?force=1`)).status).toBe(204);
    }
  });

  test("images/json?shared-size=1 fills SharedSize (API 1.42; dockerd 20.10 is too old and answers -1)", async () => {
    const r = await peers.all[0]!.api("GET", "/images/json?shared-size=1");
    const mine = r.body.find((i: any) => i.RepoTags?.includes(peers.bb));
    expect(mine.SharedSize).toBeGreaterThanOrEqual(0);
    const without = (await peers.all[0]!.api("GET", "/images/json")).body.find((i: any) => i.RepoTags?.includes(peers.bb));
    expect(without.SharedSize).toBe(-1);
  });

  test("--network none: the sandbox's loopback is up (flags 0x9), as dockerd", async () => {
    const out: string[] = [];
    for (const s of peers.all) {
      const r = await s.docker(["run", "--rm", "--network", "none", peers.bb, "sh", "-c", "cat /sys/class/net/lo/flags; ping -c1 -W1 127.0.0.1 >/dev/null && echo pinged"]);
      expect(r.code).toBe(0);
      out.push(r.stdout);
    }
    expect(out[0]).toBe("0x9\npinged\n");
    for (const o of out) expect(o).toBe(out[0]!);
  });

  test("DELETE /images/{id}?force=1 of an image a running container uses: 409 (cannot be forced); a stopped one's without force: 409 (must be forced)", async () => {
    const answers: string[][] = [];
    for (const s of peers.all) {
      const img = (await s.api("GET", `/images/${encodeURIComponent(peers.bb)}/json`)).body.Id as string;
      const short = img.replace("sha256:", "").slice(0, 12);
      const stopped = await create(s, "orch-gc-stopped", { Cmd: ["true"] });
      // Only one stopped user while asking without force: dockerd names whichever it finds first.
      const noForce = await s.api("DELETE", `/images/${img}`);
      expect(noForce.status).toBe(409);
      const id = await create(s, "orch-gc", { Cmd: ["sleep", "300"] });
      expect((await s.api("POST", `/containers/${id}/start`)).status).toBe(204);
      const forced = await s.api("DELETE", `/images/${img}?force=1`);
      expect(forced.status).toBe(409);
      // The image and its tag are still there.
      expect((await s.api("GET", `/images/${encodeURIComponent(peers.bb)}/json`)).status).toBe(200);
      const norm = (m: string) => m.replaceAll(short, "<img>").replaceAll(id.slice(0, 12), "<running>").replaceAll(stopped.slice(0, 12), "<stopped>");
      answers.push([norm(noForce.body.message), norm(forced.body.message)]);
      await s.api("DELETE", `/containers/${id}?force=1`);
      await s.api("DELETE", `/containers/${stopped}?force=1`);
    }
    expect(answers[0]![1]).toBe("conflict: unable to delete <img> (cannot be forced) - image is being used by running container <running>");
    for (const a of answers) expect(a).toEqual(answers[0]!);
  });
});
