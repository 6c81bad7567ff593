// HostConfig as `inspect` answers it: every field dockerd 20.10 shows, its
// zero values under what the client sent (Compose and the SDKs send only what
// they set; the docker CLI sends everything), so clients that read a field
// find it. Rendering only: the stored HostConfig stays as it was asked for.
import { MASKED_PATHS, READONLY_PATHS } from "../execdriver/rootfs.ts";
import type { HostConfig } from "./types.ts";

/** The runtime ctr runs containers with (GET /info's DefaultRuntime); "runc" is accepted as a request for it. */
export const DEFAULT_RUNTIME = "ctr";
export const ACCEPTED_RUNTIMES = new Set(["", DEFAULT_RUNTIME, "runc"]);

const ZERO = {
  Binds: null, ContainerIDFile: "", PortBindings: null, AutoRemove: false, VolumeDriver: "", VolumesFrom: null,
  CapAdd: null, CapDrop: null,
  // ctr gives every container its own cgroup namespace (dockerd: "host" on cgroup v1).
  CgroupnsMode: "private",
  Dns: null, DnsOptions: null, DnsSearch: null, ExtraHosts: null, GroupAdd: null, IpcMode: "private", Cgroup: "", Links: null,
  OomScoreAdj: 0, PidMode: "", Privileged: false, PublishAllPorts: false, ReadonlyRootfs: false, SecurityOpt: null, UTSMode: "",
  UsernsMode: "", ShmSize: 67108864, ConsoleSize: [0, 0], Isolation: "", CpuShares: 0, Memory: 0, NanoCpus: 0, CgroupParent: "",
  BlkioWeight: 0, BlkioWeightDevice: null, BlkioDeviceReadBps: null, BlkioDeviceWriteBps: null, BlkioDeviceReadIOps: null,
  BlkioDeviceWriteIOps: null, CpuPeriod: 0, CpuQuota: 0, CpuRealtimePeriod: 0, CpuRealtimeRuntime: 0, CpusetCpus: "", CpusetMems: "",
  Devices: null, DeviceCgroupRules: null, DeviceRequests: null, KernelMemory: 0, KernelMemoryTCP: 0, MemoryReservation: 0,
  MemorySwap: 0, MemorySwappiness: null, OomKillDisable: false, PidsLimit: null, Ulimits: null, CpuCount: 0, CpuPercent: 0,
  IOMaximumIOps: 0, IOMaximumBandwidth: 0,
};

const emptyToNull = (v: unknown) => (Array.isArray(v) && !v.length ? null : v);

export function hostConfigView(h: HostConfig, o: { started: boolean }) {
  const privileged = !!h.Privileged;
  return {
    ...ZERO,
    // Privileged containers have nothing masked (dockerd answers null there).
    MaskedPaths: privileged ? null : MASKED_PATHS,
    ReadonlyPaths: privileged ? null : READONLY_PATHS,
    ...h,
    // dockerd keeps links in its own graph and answers null without any.
    Links: emptyToNull(h.Links),
    // dockerd records the runtime at the first start.
    ...(h.Runtime || o.started ? { Runtime: h.Runtime || DEFAULT_RUNTIME } : {}),
  };
}
