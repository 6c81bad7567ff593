// resolveMounts: -v, --mount, --tmpfs, --volumes-from and image VOLUMEs → mounts, as dockerd resolves them.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { resolveMounts, type MountPoint, type VolumeOptions } from "../../../src/engine/containers/mounts.ts";
import type { Container } from "../../../src/engine/containers/types.ts";

const host = mkdtempSync(join(tmpdir(), "ctr-mounts-"));
afterAll(() => rmSync(host, { recursive: true, force: true }));

function container(hostConfig: Container["hostConfig"], volumes: Record<string, object> = {}): Container {
  return { id: "c1", hostConfig, config: { Volumes: volumes } } as unknown as Container;
}

function provider() {
  const made: { name: string; anonymous: boolean; create?: VolumeOptions }[] = [];
  return {
    made,
    ensure: (name: string, anonymous: boolean, _id: string, create?: VolumeOptions) => {
      made.push({ name, anonymous, create });
      return `/vols/${name}/_data`;
    },
  };
}

const none = () => [] as MountPoint[];

describe("resolveMounts", () => {
  test("-v named volume, bind with modes, anonymous; copy-up only for volumes without nocopy", () => {
    const p = provider();
    const r = resolveMounts(container({ Binds: ["data:/data", `${host}:/h:ro`, "/anon", "quiet:/q:nocopy"] }), p, none);
    expect(r.points.find((m) => m.Destination === "/data")).toMatchObject({ Type: "volume", Name: "data", Source: "/vols/data/_data", Mode: "z", RW: true });
    expect(r.points.find((m) => m.Destination === "/h")).toMatchObject({ Type: "bind", Source: host, Mode: "ro", RW: false, Propagation: "rprivate" });
    expect(r.mounts.find((m) => m.destination === "/h")?.options).toEqual(["rbind", "ro"]);
    expect(p.made.map((m) => [m.name.length === 64 ? "<random>" : m.name, m.anonymous])).toEqual([["data", false], ["<random>", true], ["quiet", false]]);
    expect(r.copyUp.map((m) => m.Destination).sort()).toEqual(["/anon", "/data"]);
  });

  test("--mount volume passes volume-opt and labels to the new volume; a bind source must exist", () => {
    const p = provider();
    const Mounts = [{ Type: "volume", Source: "tv", Target: "/t", VolumeOptions: { Labels: { a: "b" }, DriverConfig: { Options: { type: "tmpfs", device: "tmpfs" } } } }];
    resolveMounts(container({ Mounts } as Container["hostConfig"]), p, none);
    expect(p.made[0]).toEqual({ name: "tv", anonymous: false, create: { Labels: { a: "b" }, DriverOpts: { type: "tmpfs", device: "tmpfs" } } });
    const missing = join(host, "nope");
    expect(() => resolveMounts(container({ Mounts: [{ Type: "bind", Source: missing, Target: "/n" }] }), p, none)).toThrow(
      `invalid mount config for type "bind": bind source path does not exist: ${missing}`,
    );
    // -v creates it instead.
    resolveMounts(container({ Binds: [`${missing}:/n`] }), p, none);
    expect(existsSync(missing)).toBe(true);
  });

  test("tmpfs: Docker's noexec,nosuid,nodev defaults, size from --mount and --tmpfs, exec lifts noexec", () => {
    const r = resolveMounts(
      container({ Tmpfs: { "/a": "size=1m", "/b": "exec" }, Mounts: [{ Type: "tmpfs", Target: "/c", TmpfsOptions: { SizeBytes: 2097152, Mode: 0o1777 } }] }),
      provider(),
      none,
    );
    const opts = (d: string) => r.mounts.find((m) => m.destination === d)?.options;
    expect(opts("/a")).toEqual(["noexec", "nosuid", "nodev", "size=1m"]);
    expect(opts("/b")).toEqual(["nosuid", "nodev"]);
    expect(opts("/c")).toEqual(["noexec", "nosuid", "nodev", "size=2097152", "mode=1777"]);
    expect(r.points.find((m) => m.Destination === "/c")?.Mode).toContain("size=2097152");
  });

  test("image VOLUMEs get anonymous volumes unless the user mounts there; duplicates are refused", () => {
    const p = provider();
    const r = resolveMounts(container({ Binds: [`${host}:/data`] }, { "/data": {}, "/logs": {} }), p, none);
    expect(p.made.length).toBe(1);
    expect(p.made[0]!.anonymous).toBe(true);
    expect(r.points.find((m) => m.Destination === "/data")?.Type).toBe("bind");
    expect(() => resolveMounts(container({ Binds: ["a:/x", "b:/x/"] }), provider(), none)).toThrow("Duplicate mount point: /x");
    expect(() => resolveMounts(container({ Binds: ["a:/"] }), provider(), none)).toThrow("destination can't be '/'");
    expect(() => resolveMounts(container({ Binds: ["a:/x:bogus"] }), provider(), none)).toThrow("invalid mode: bogus");
  });

  test("--volumes-from takes the other container's volumes and binds, :ro makes them read-only", () => {
    const theirs: MountPoint[] = [
      { Type: "volume", Name: "shared", Source: "/vols/shared/_data", Destination: "/s", Driver: "local", Mode: "z", RW: true, Propagation: "" },
      { Type: "bind", Source: host, Destination: "/h", Mode: "", RW: true, Propagation: "rprivate" },
    ];
    const r = resolveMounts(container({ VolumesFrom: ["other:ro"] }), provider(), () => theirs);
    expect(r.points.map((m) => [m.Destination, m.RW])).toEqual([["/s", false], ["/h", false]]);
    expect(r.copyUp).toEqual([]);
    expect(() => resolveMounts(container({ VolumesFrom: ["other:xx"] }), provider(), () => theirs)).toThrow("invalid mode: xx");
  });
});
