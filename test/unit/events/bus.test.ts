import { describe, expect, test } from "bun:test";
import { EventBus } from "../../../src/engine/events/bus.ts";

const ev = (Type: string, Action: string, ID: string, Attributes: Record<string, string> = {}) => ({ Type, Action, Actor: { ID, Attributes } });

describe("event bus", () => {
  test("container events carry dockerd's legacy fields", () => {
    const bus = new EventBus();
    const e = bus.publish(ev("container", "start", "abc", { image: "busybox", name: "web" }));
    expect(e).toMatchObject({ status: "start", id: "abc", from: "busybox", Type: "container", scope: "local" });
    const n = bus.publish(ev("network", "create", "n1", { name: "net" }));
    expect(n.status).toBeUndefined();
  });

  test("since replays history; until ends the stream; filters AND keys, OR values", async () => {
    const bus = new EventBus();
    const t0 = Date.now() / 1000 - 1;
    bus.publish(ev("container", "create", "c1", { name: "a" }));
    bus.publish(ev("container", "start", "c1", { name: "a" }));
    bus.publish(ev("image", "pull", "busybox", { name: "busybox" }));
    bus.publish(ev("container", "start", "c2", { name: "b" }));
    const got: string[] = [];
    for await (const e of bus.subscribe({ since: t0, until: Date.now() / 1000 + 0.05, filters: { type: ["container"], event: ["start", "die"] } })) {
      got.push(`${e.Actor.ID}:${e.Action}`);
    }
    expect(got).toEqual(["c1:start", "c2:start"]);
  });

  test("live events reach a subscriber until it aborts", async () => {
    const bus = new EventBus();
    const abort = new AbortController();
    const got: string[] = [];
    const done = (async () => {
      for await (const e of bus.subscribe({ signal: abort.signal, filters: { container: ["web"] } })) {
        got.push(e.Action);
        if (got.length === 2) abort.abort();
      }
    })();
    await Bun.sleep(1);
    bus.publish(ev("container", "create", "x1", { name: "web" }));
    bus.publish(ev("container", "create", "x2", { name: "other" }));
    bus.publish(ev("container", "start", "x1", { name: "web" }));
    await done;
    expect(got).toEqual(["create", "start"]);
  });
});
