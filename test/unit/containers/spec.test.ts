import { describe, expect, test } from "bun:test";
import { cgroupResources, DEFAULT_CAPS, resolveCaps } from "../../../src/engine/containers/spec.ts";
import type { Container } from "../../../src/engine/containers/types.ts";

describe("run spec", () => {
  test("capabilities follow Docker's default set, drops, adds and ALL", () => {
    expect(resolveCaps()).toEqual(DEFAULT_CAPS);
    expect(resolveCaps(["NET_ADMIN"], ["chown"])).toEqual([...DEFAULT_CAPS.filter((c) => c !== "CAP_CHOWN"), "CAP_NET_ADMIN"]);
    expect(resolveCaps(["CAP_KILL"], ["ALL"])).toEqual(["CAP_KILL"]);
    expect(resolveCaps([], [], true)).toContain("CAP_SYS_ADMIN");
    expect(() => resolveCaps(["BOGUS"])).toThrow("unknown capability");
  });

  test("cgroup resources from HostConfig, as dockerd computes them", () => {
    const c = { hostConfig: { Memory: 64 * 1024 * 1024, NanoCpus: 1.5e9, PidsLimit: 50, CpuShares: 512 } } as unknown as Container;
    expect(cgroupResources(c)).toEqual({ memory: 64 * 1024 * 1024, memorySwap: 128 * 1024 * 1024, cpuPeriod: 100000, cpuQuota: 150000, pidsLimit: 50, cpuShares: 512 });
    expect(cgroupResources({ hostConfig: {} } as unknown as Container)).toEqual({});
  });
});
