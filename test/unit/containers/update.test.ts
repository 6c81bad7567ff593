import { afterAll, describe, expect, test } from "bun:test";
import { removeScratch } from "../../helpers/tmp.ts";
import { fakeWorld } from "./fakes.ts";
import { applyUpdate } from "../../../src/engine/containers/update.ts";
import { ConflictError, InvalidParameterError } from "../../../src/engine/errors.ts";

afterAll(removeScratch);

const M = 1024 * 1024;

describe("docker update (dockerd's UpdateContainer rules)", () => {
  test("fields left 0 keep their values; given ones replace them", () => {
    const hc = { Memory: 64 * M, MemorySwap: 128 * M, CpuShares: 512, PidsLimit: 10, RestartPolicy: { Name: "no" as const, MaximumRetryCount: 0 } };
    expect(applyUpdate("id", hc, { CpuShares: 100, PidsLimit: 0, RestartPolicy: { Name: "on-failure", MaximumRetryCount: 3 } })).toEqual({
      Memory: 64 * M,
      MemorySwap: 128 * M,
      CpuShares: 100,
      PidsLimit: 0,
      RestartPolicy: { Name: "on-failure", MaximumRetryCount: 3 },
    });
    expect(applyUpdate("id", hc, { Memory: 32 * M })).toMatchObject({ Memory: 32 * M, MemorySwap: 128 * M });
  });

  test("dockerd's refusals, with its messages and kinds", () => {
    const err = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return [(e as Error).constructor.name, (e as Error).message];
      }
      return null;
    };
    expect(err(() => applyUpdate("c1", {}, { Memory: 64 * M }))).toEqual([ConflictError.name, "Cannot update container c1: Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time"]);
    expect(err(() => applyUpdate("c1", {}, { Memory: 1000 }))).toEqual([InvalidParameterError.name, "Minimum memory limit allowed is 6MB"]);
    expect(err(() => applyUpdate("c1", { NanoCpus: 5e8 }, { CpuQuota: 20000 }))).toEqual([ConflictError.name, "Cannot update container c1: Conflicting options: CPU Quota cannot be updated as NanoCPUs has already been set"]);
    expect(err(() => applyUpdate("c1", { CpuPeriod: 100000 }, { NanoCpus: 5e8 }))).toEqual([ConflictError.name, "Cannot update container c1: Conflicting options: Nano CPUs cannot be updated as CPU Period has already been set"]);
    expect(err(() => applyUpdate("c1", {}, { RestartPolicy: { Name: "bogus" as never } }))).toEqual([InvalidParameterError.name, "invalid restart policy 'bogus'"]);
    expect(err(() => applyUpdate("c1", {}, { RestartPolicy: { Name: "always", MaximumRetryCount: 2 } }))).toEqual([InvalidParameterError.name, "maximum retry count cannot be used with restart policy 'always'"]);
    expect(err(() => applyUpdate("c1", { AutoRemove: true }, { RestartPolicy: { Name: "always" } }))).toEqual([ConflictError.name, "Cannot update container c1: Restart policy cannot be updated because AutoRemove is enabled for the container"]);
  });

  test("a running container gets the new limits applied; a stopped one only records them; an update event", async () => {
    const { svc, store, updates, events, procs } = fakeWorld();
    const { Id } = await svc.create(undefined, { Image: "busybox", HostConfig: { Memory: 64 * M } });
    expect(store.get(Id).hostConfig.MemorySwap).toBe(128 * M); // dockerd's create default: swap as much again
    await svc.start(Id);
    expect(await svc.update(Id, { Memory: 32 * M, PidsLimit: 50 })).toEqual({ Warnings: null });
    expect(updates).toEqual([expect.objectContaining({ Memory: 32 * M, MemorySwap: 128 * M, PidsLimit: 50 })]);
    expect(store.get(Id).hostConfig).toMatchObject({ Memory: 32 * M, PidsLimit: 50 });
    procs[0]!.exit(0);
    for (let i = 0; i < 500 && store.get(Id).state.Running; i++) await Bun.sleep(2);
    await svc.update(Id, { RestartPolicy: { Name: "always" } });
    expect(updates.length).toBe(1);
    expect(store.get(Id).hostConfig.RestartPolicy).toEqual({ Name: "always", MaximumRetryCount: 0 });
    expect(events.filter((e) => e.Action === "update").length).toBe(2);
  });
});
