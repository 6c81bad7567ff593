// POST /containers/create: the body as dockerd's runconfig.ContainerConfigWrapper
// (container.Config embedded, HostConfig, NetworkingConfig). Field lists follow
// moby's api/types/container and api/types/network; the rules dockerd applies at
// create (daemon/container.go verifyContainerSettings, daemon_unix.go
// verifyPlatformContainerResources) are in ./container-rules.ts.
// To add a field: put it in the struct below with its Go type; a rule goes in
// container-rules.ts with dockerd's message.
import {
  any,
  array,
  bool,
  int,
  int64,
  map,
  string,
  strslice,
  struct,
  topLevel,
  tuple,
  uint16,
  uint32,
  uint64,
  rules,
  type Out,
} from "./go-json.ts";
import { createRules } from "./container-rules.ts";

const strings = array(string, "[]string");
const labels = map(string, "map[string]string");
const emptyStruct = struct("struct {}", "", {});

export const HealthConfig = struct("container.HealthConfig", "HealthConfig", {
  Test: strings,
  Interval: int64,
  Timeout: int64,
  StartPeriod: int64,
  StartInterval: int64,
  Retries: int,
});

/** container.Config: every field dockerd knows; unknown keys are dropped, as Go drops them. */
export const configFields = {
  Hostname: string,
  Domainname: string,
  User: string,
  AttachStdin: bool,
  AttachStdout: bool,
  AttachStderr: bool,
  ExposedPorts: map(emptyStruct, "nat.PortSet"),
  Tty: bool,
  OpenStdin: bool,
  StdinOnce: bool,
  Env: strings,
  Cmd: strslice,
  Healthcheck: HealthConfig,
  ArgsEscaped: bool,
  Image: string,
  Volumes: map(emptyStruct, "map[string]struct {}"),
  WorkingDir: string,
  Entrypoint: strslice,
  NetworkDisabled: bool,
  MacAddress: string,
  OnBuild: strings,
  Labels: labels,
  StopSignal: string,
  StopTimeout: int,
  Shell: strslice,
};

const ThrottleDevice = struct("blkiodev.ThrottleDevice", "ThrottleDevice", { Path: string, Rate: uint64 });
const throttle = array(ThrottleDevice, "[]*blkiodev.ThrottleDevice");

/** container.Resources: embedded in HostConfig (and the body of POST /containers/{id}/update). */
export const resourceFields = {
  CpuShares: int64,
  Memory: int64,
  NanoCpus: int64,
  CgroupParent: string,
  BlkioWeight: uint16,
  BlkioWeightDevice: array(struct("blkiodev.WeightDevice", "WeightDevice", { Path: string, Weight: uint16 }), "[]*blkiodev.WeightDevice"),
  BlkioDeviceReadBps: throttle,
  BlkioDeviceWriteBps: throttle,
  BlkioDeviceReadIOps: throttle,
  BlkioDeviceWriteIOps: throttle,
  CpuPeriod: int64,
  CpuQuota: int64,
  CpuRealtimePeriod: int64,
  CpuRealtimeRuntime: int64,
  CpusetCpus: string,
  CpusetMems: string,
  Devices: array(
    struct("container.DeviceMapping", "DeviceMapping", { PathOnHost: string, PathInContainer: string, CgroupPermissions: string }),
    "[]container.DeviceMapping",
  ),
  DeviceCgroupRules: strings,
  DeviceRequests: array(
    struct("container.DeviceRequest", "DeviceRequest", {
      Driver: string,
      Count: int,
      DeviceIDs: strings,
      Capabilities: array(strings, "[][]string"),
      Options: labels,
    }),
    "[]container.DeviceRequest",
  ),
  KernelMemory: int64,
  KernelMemoryTCP: int64,
  MemoryReservation: int64,
  MemorySwap: int64,
  MemorySwappiness: int64,
  OomKillDisable: bool,
  PidsLimit: int64,
  Ulimits: array(struct("units.Ulimit", "Ulimit", { Name: string, Hard: int64, Soft: int64 }), "[]*units.Ulimit"),
  CpuCount: int64,
  CpuPercent: int64,
  IOMaximumIOps: uint64,
  IOMaximumBandwidth: uint64,
};

export const MountSchema = struct("mount.Mount", "Mount", {
  Type: string,
  Source: string,
  Target: string,
  ReadOnly: bool,
  Consistency: string,
  BindOptions: struct("mount.BindOptions", "BindOptions", {
    Propagation: string,
    NonRecursive: bool,
    CreateMountpoint: bool,
    ReadOnlyNonRecursive: bool,
    ReadOnlyForceRecursive: bool,
  }),
  VolumeOptions: struct("mount.VolumeOptions", "VolumeOptions", {
    NoCopy: bool,
    Labels: labels,
    Subpath: string,
    DriverConfig: struct("mount.Driver", "Driver", { Name: string, Options: labels }),
  }),
  TmpfsOptions: struct("mount.TmpfsOptions", "TmpfsOptions", { SizeBytes: int64, Mode: uint32("fs.FileMode"), Options: array(strings, "[][]string") }),
  ClusterOptions: any,
});

const PortBinding = struct("nat.PortBinding", "PortBinding", { HostIp: string, HostPort: string });

export const hostConfigFields = {
  Binds: strings,
  ContainerIDFile: string,
  LogConfig: struct("container.LogConfig", "LogConfig", { Type: string, Config: labels }),
  NetworkMode: string,
  PortBindings: map(array(PortBinding, "[]nat.PortBinding"), "nat.PortMap"),
  RestartPolicy: struct("container.RestartPolicy", "RestartPolicy", { Name: string, MaximumRetryCount: int }),
  AutoRemove: bool,
  VolumeDriver: string,
  VolumesFrom: strings,
  ConsoleSize: tuple(uint64, "[2]uint", 2),
  Annotations: labels,
  CapAdd: strslice,
  CapDrop: strslice,
  CgroupnsMode: string,
  Dns: strings,
  DnsOptions: strings,
  DnsSearch: strings,
  ExtraHosts: strings,
  GroupAdd: strings,
  IpcMode: string,
  Cgroup: string,
  Links: strings,
  OomScoreAdj: int,
  PidMode: string,
  Privileged: bool,
  PublishAllPorts: bool,
  ReadonlyRootfs: bool,
  SecurityOpt: strings,
  StorageOpt: labels,
  Tmpfs: labels,
  UTSMode: string,
  UsernsMode: string,
  ShmSize: int64,
  Sysctls: labels,
  Runtime: string,
  Isolation: string,
  ...resourceFields,
  Mounts: array(MountSchema, "[]mount.Mount"),
  MaskedPaths: strings,
  ReadonlyPaths: strings,
  Init: bool,
};

export const HostConfigSchema = struct("container.HostConfig", "HostConfig", hostConfigFields);

export const EndpointSettings = struct("network.EndpointSettings", "EndpointSettings", {
  IPAMConfig: struct("network.EndpointIPAMConfig", "EndpointIPAMConfig", { IPv4Address: string, IPv6Address: string, LinkLocalIPs: strings }),
  Links: strings,
  Aliases: strings,
  MacAddress: string,
  DriverOpts: labels,
  NetworkID: string,
  EndpointID: string,
  Gateway: string,
  IPAddress: string,
  IPPrefixLen: int,
  IPv6Gateway: string,
  GlobalIPv6Address: string,
  GlobalIPv6PrefixLen: int,
  DNSNames: strings,
});

export const NetworkingConfig = struct("network.NetworkingConfig", "NetworkingConfig", {
  EndpointsConfig: map(EndpointSettings, "network.EndpointSettings"),
});

const wrapper = struct("runconfig.ContainerConfigWrapper", "ContainerConfigWrapper", {
  ...configFields,
  HostConfig: HostConfigSchema,
  NetworkingConfig,
});

/** dockerd checks Config, then HostConfig, then NetworkingConfig, each in its own order: one list keeps that order. */
export const ContainerCreateBody = topLevel(rules(wrapper, createRules));
export type ContainerCreateBody = Out<typeof wrapper>;
export type HostConfigBody = Out<typeof HostConfigSchema>;
export type EndpointSettingsBody = Out<typeof EndpointSettings>;
