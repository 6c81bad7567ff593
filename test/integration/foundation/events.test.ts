// Image and network events (pull, tag, untag, delete; network create/connect/
// disconnect/destroy) in Docker's shape on GET /events.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { isRoot, startDaemon, type TestDaemon } from "../../helpers/daemon.ts";
import { haveRegistry, seedBusybox, startRegistry, type RunningRegistry } from "../../helpers/registry.ts";

setDefaultTimeout(60_000);

const ready = isRoot && haveRegistry;
if (!isRoot) console.warn("skip: the daemon needs root");
else if (!haveRegistry) console.warn("skip: docker-registry is not installed");

describe.skipIf(!ready)("image and network events", () => {
  let reg: RunningRegistry;
  let bb: string;
  let d: TestDaemon;
  beforeAll(async () => {
    reg = await startRegistry();
    bb = await seedBusybox(reg.host);
    d = await startDaemon();
  });
  afterAll(async () => {
    await d?.[Symbol.asyncDispose]();
    await reg?.stop();
  });

  test("pull, tag, rmi, network create/connect/disconnect/rm are published", async () => {
    const since = Math.floor(Date.now() / 1000) - 1;
    expect((await d.ctr(["pull", "-q", bb])).code).toBe(0);
    expect((await d.ctr(["tag", bb, "evtag:1"])).code).toBe(0);
    expect((await d.ctr(["rmi", "evtag:1"])).code).toBe(0);
    expect((await d.ctr(["network", "create", "evnet"])).code).toBe(0);
    expect((await d.ctr(["run", "-d", "--name", "evc", bb, "sleep", "100"])).code).toBe(0);
    expect((await d.ctr(["network", "connect", "evnet", "evc"])).code).toBe(0);
    expect((await d.ctr(["network", "disconnect", "evnet", "evc"])).code).toBe(0);
    expect((await d.ctr(["network", "rm", "evnet"])).code).toBe(0);
    await d.ctr(["rm", "-f", "evc"]);
    const until = Math.floor(Date.now() / 1000) + 1;
    const res = await d.client.request("GET", "/events", { query: { since, until } });
    const events = (await res.text()).split("\n").filter(Boolean).map((l) => JSON.parse(l));
    const seen = events.map((e) => `${e.Type} ${e.Action}`);
    for (const want of ["image pull", "image tag", "image untag", "network create", "network connect", "network disconnect", "network destroy"]) {
      expect(seen).toContain(want);
    }
    const pull = events.find((e) => e.Type === "image" && e.Action === "pull");
    expect(pull).toMatchObject({ Actor: { ID: bb }, scope: "local", status: "pull", id: bb });
    const tag = events.find((e) => e.Action === "tag");
    expect(tag.Actor.Attributes.name).toBe("evtag:1");
  });
});
