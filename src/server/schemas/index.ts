// The Engine API's request schemas (one file per resource) and the one way a
// route reads a body: capped, parsed with Go's limits, validated. See
// go-json.ts for how a schema is written.
export { ContainerCreateBody, HostConfigSchema, MountSchema, configFields, hostConfigFields, resourceFields } from "./container.ts";
export { ExecCreateBody, ExecStartBody } from "./exec.ts";
export { VolumeCreateBody } from "./volume.ts";
export { ContainerUpdateBody } from "./update.ts";
export { NetworkCreateBody, NetworkConnectBody, NetworkDisconnectBody } from "./network.ts";
export { atoi, signalParam } from "./params.ts";
