// Records stored before the API validated its input must not break listing:
// the docker CLI decodes Labels as map[string]string and ports as uint16.
import { describe, expect, test } from "bun:test";
import { listView } from "../../../src/engine/containers/render.ts";
import { initialState, type Container } from "../../../src/engine/containers/types.ts";

function stored(over: { labels: unknown; exposed: Record<string, object>; ports?: Record<string, { HostIp: string; HostPort: string }[] | null> }): Container {
  return {
    id: "c".repeat(64),
    name: "old",
    imageId: "sha256:" + "i".repeat(64),
    imageRef: "busybox",
    config: { Image: "busybox", Cmd: ["true"], Entrypoint: null, Labels: over.labels as Record<string, string>, ExposedPorts: over.exposed } as unknown as Container["config"],
    hostConfig: { NetworkMode: "bridge" },
    networking: {},
    networkSettings: over.ports ? { Ports: over.ports } : {},
    mounts: [],
    state: initialState(),
    restartCount: 0,
    manuallyStopped: false,
    created: "2026-01-01T00:00:00.000000000Z",
  };
}

describe("ps of records stored before validation", () => {
  test("non-string labels are left out, the string ones stay", () => {
    expect(listView(stored({ labels: { a: 1, b: "x", c: { d: [] } }, exposed: {} }), "sha256:i").Labels).toEqual({ b: "x" });
  });
  test("ports that are not uint16 are left out", () => {
    const v = listView(stored({ labels: {}, exposed: { "99999/tcp": {}, "80/tcp": {} } }), "sha256:i");
    expect(v.Ports).toEqual([{ PrivatePort: 80, Type: "tcp" }]);
    const bound = listView(stored({ labels: {}, exposed: {}, ports: { "70000/tcp": null, "81/tcp": [{ HostIp: "0.0.0.0", HostPort: "99999" }] } }), "sha256:i");
    expect(bound.Ports).toEqual([{ IP: "0.0.0.0", PrivatePort: 81, PublicPort: 0, Type: "tcp" }]);
  });
});
