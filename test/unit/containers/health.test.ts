import { afterAll, describe, expect, test } from "bun:test";
import { removeScratch } from "../../helpers/tmp.ts";
import { fakeWorld } from "./fakes.ts";
import { HealthMonitor } from "../../../src/engine/containers/health-monitor.ts";
import {
  applyResult,
  clipOutput,
  healthSuffix,
  mergeHealthcheck,
  probeArgs,
  probeTiming,
  timeoutOutput,
  validateHealthcheck,
  type Health,
} from "../../../src/engine/containers/health.ts";
import { statusText } from "../../../src/engine/containers/render.ts";
import { matchesFilters } from "../../../src/engine/containers/list.ts";

afterAll(removeScratch);

const until = async (cond: () => boolean) => {
  for (let i = 0; i < 1000 && !cond(); i++) await Bun.sleep(2);
  if (!cond()) throw new Error("condition never held");
};

const entry = (code: number) => ({ Start: "s", End: "e", ExitCode: code, Output: "" });

describe("healthcheck rules (dockerd's daemon/health.go)", () => {
  test("merge: the user's fields over the image's, zeros inherit, empty fields left out", () => {
    const image = { Test: ["CMD-SHELL", "echo hi"], Interval: 2e9, Retries: 4 };
    expect(mergeHealthcheck(undefined, image)).toEqual(image);
    expect(mergeHealthcheck({ Timeout: 3e9 }, image)).toEqual({ Test: ["CMD-SHELL", "echo hi"], Interval: 2e9, Timeout: 3e9, Retries: 4 });
    expect(mergeHealthcheck({ Test: ["NONE"] }, image)).toEqual({ Test: ["NONE"], Interval: 2e9, Retries: 4 });
    expect(mergeHealthcheck({ Test: ["CMD", "true"], Interval: 1e9, Timeout: 0, StartPeriod: 0, Retries: 0 }, null)).toEqual({ Test: ["CMD", "true"], Interval: 1e9 });
    expect(mergeHealthcheck(undefined, undefined)).toBeUndefined();
  });

  test("create-time checks carry dockerd's messages", () => {
    expect(() => validateHealthcheck({ Interval: 100 })).toThrow("Interval in Healthcheck cannot be less than 1ms");
    expect(() => validateHealthcheck({ Timeout: 5 })).toThrow("Timeout in Healthcheck cannot be less than 1ms");
    expect(() => validateHealthcheck({ StartPeriod: 10 })).toThrow("StartPeriod in Healthcheck cannot be less than 1ms");
    expect(() => validateHealthcheck({ Retries: -1 })).toThrow("Retries in Healthcheck cannot be negative");
    expect(() => validateHealthcheck({ Interval: 1e6, Retries: 0 })).not.toThrow();
  });

  test("probe argv: CMD as is, CMD-SHELL through the container's shell, NONE and empty mean none", () => {
    expect(probeArgs({ Test: ["CMD", "curl", "-f", "x"] }, null)).toEqual(["curl", "-f", "x"]);
    expect(probeArgs({ Test: ["CMD-SHELL", "test -f /ok"] }, null)).toEqual(["/bin/sh", "-c", "test -f /ok"]);
    expect(probeArgs({ Test: ["CMD-SHELL", "x"] }, ["/bin/bash", "-ec"])).toEqual(["/bin/bash", "-ec", "x"]);
    expect(probeArgs({ Test: ["NONE"] }, null)).toBeNull();
    expect(probeArgs({}, null)).toBeNull();
    expect(probeArgs(undefined, null)).toBeNull();
  });

  test("results: healthy resets the streak; retries failures make it unhealthy; the start period does not count", () => {
    const t = probeTiming({ Retries: 2 });
    expect(t).toEqual({ intervalMs: 30_000, timeoutMs: 30_000, startPeriodMs: 0, retries: 2 });
    let h: Health = { Status: "starting", FailingStreak: 0, Log: [] };
    h = applyResult(h, entry(1), t, true);
    expect(h).toMatchObject({ Status: "starting", FailingStreak: 0 });
    h = applyResult(h, entry(1), t, false);
    expect(h).toMatchObject({ Status: "starting", FailingStreak: 1 });
    h = applyResult(h, entry(-1), t, false);
    expect(h).toMatchObject({ Status: "unhealthy", FailingStreak: 2 });
    h = applyResult(h, entry(0), t, false);
    expect(h).toMatchObject({ Status: "healthy", FailingStreak: 0 });
    h = applyResult(h, entry(1), t, true); // the start period only shields a starting container
    expect(h).toMatchObject({ Status: "healthy", FailingStreak: 1 });
    for (let i = 0; i < 5; i++) h = applyResult(h, entry(i), t, false);
    expect(h.Log.map((l) => l.ExitCode)).toEqual([0, 1, 2, 3, 4]); // the last five
  });

  test("output is clipped to 4 KiB; a timeout says so in Go's duration format; ps suffixes", () => {
    expect(clipOutput("x".repeat(5000)).length).toBe(4096);
    expect(timeoutOutput(1500)).toBe("Health check exceeded timeout (1.5s)");
    expect(healthSuffix({ Status: "starting", FailingStreak: 0, Log: [] })).toBe(" (health: starting)");
    expect(healthSuffix({ Status: "healthy", FailingStreak: 0, Log: [] })).toBe(" (healthy)");
    expect(healthSuffix(undefined)).toBe("");
  });
});

describe("health monitor on the container lifecycle", () => {
  function world(script: number[]) {
    const w = fakeWorld();
    const probes: string[][] = [];
    let i = 0;
    const monitor = new HealthMonitor({
      probe: async (_id, argv) => {
        probes.push(argv);
        return { exitCode: script[Math.min(i++, script.length - 1)]!, output: `probe ${i}\n` };
      },
      record: (id, at, fold) => w.svc.recordHealth(id, at, fold),
    });
    w.svc.observe({ running: (c) => monitor.watch(c), stopped: (id) => monitor.unwatch(id) });
    return { ...w, probes, monitor };
  }
  const hc = { Test: ["CMD-SHELL", "check"], Interval: 1e6, Retries: 2 };

  test("starting → unhealthy → healthy, with health_status events on changes only; ps and the filter follow", async () => {
    const { svc, store, events, probes, monitor } = world([1, 1, 1, 0]);
    const { Id } = await svc.create(undefined, { Image: "busybox", Healthcheck: hc });
    expect(store.get(Id).state.Health).toBeUndefined();
    await svc.start(Id);
    expect(store.get(Id).state.Health).toEqual({ Status: "starting", FailingStreak: 0, Log: [] });
    expect(statusText(store.get(Id))).toBe("Up Less than a second (health: starting)");
    await until(() => store.get(Id).state.Health?.Status === "healthy");
    monitor.close();
    const h = store.get(Id).state.Health!;
    expect(h.FailingStreak).toBe(0);
    // More healthy probes may have run before the poll saw it: the first four are the story.
    expect(h.Log.slice(0, 4).map((l) => [l.ExitCode, l.Output])).toEqual([[1, "probe 1\n"], [1, "probe 2\n"], [1, "probe 3\n"], [0, "probe 4\n"]]);
    expect(probes[0]).toEqual(["/bin/sh", "-c", "check"]);
    expect(events.map((e) => e.Action).filter((a) => a.startsWith("health_status"))).toEqual(["health_status: unhealthy", "health_status: healthy"]);
    const f = (v: string) => matchesFilters(store.get(Id), { health: [v] }, () => false);
    expect([f("healthy"), f("unhealthy"), f("none")]).toEqual([true, false, false]);
    expect(() => f("bogus")).toThrow("Unrecognised filter value for health: bogus");
  });

  test("pause and stop report unhealthy and stop the probes; a new start is starting again with the log kept", async () => {
    const { svc, store, procs, probes, monitor } = world([0]);
    const { Id } = await svc.create(undefined, { Image: "busybox", Healthcheck: hc });
    await svc.start(Id);
    await until(() => store.get(Id).state.Health?.Status === "healthy");
    await svc.pause(Id);
    expect(store.get(Id).state.Health?.Status).toBe("unhealthy");
    const n = probes.length;
    await svc.unpause(Id);
    await until(() => probes.length > n && store.get(Id).state.Health?.Status === "healthy");
    procs[0]!.exit(0);
    await until(() => store.get(Id).state.Status === "exited");
    const stopped = store.get(Id).state.Health!;
    expect(stopped.Status).toBe("unhealthy");
    await svc.start(Id);
    expect(store.get(Id).state.Health).toEqual({ Status: "starting", FailingStreak: 0, Log: stopped.Log });
    monitor.close();
  });

  test("a container without a healthcheck, or with NONE, has no State.Health and no probes", async () => {
    const { svc, store, probes, monitor } = world([0]);
    const a = await svc.create(undefined, { Image: "busybox" });
    const b = await svc.create(undefined, { Image: "busybox", Healthcheck: { Test: ["NONE"] } });
    await svc.start(a.Id);
    await svc.start(b.Id);
    expect(store.get(a.Id).state.Health).toBeUndefined();
    expect(store.get(b.Id).state.Health).toBeUndefined();
    expect(matchesFilters(store.get(a.Id), { health: ["none"] }, () => false)).toBe(true);
    expect(probes).toEqual([]);
    monitor.close();
  });

  test("a result for an earlier run is dropped", async () => {
    const { svc, store } = world([0]);
    const { Id } = await svc.create(undefined, { Image: "busybox", Healthcheck: hc });
    await svc.start(Id);
    svc.recordHealth(Id, "2000-01-01T00:00:00Z", (h) => ({ ...h, Status: "healthy" }));
    expect(store.get(Id).state.Health?.Status).toBe("starting");
  });
});
