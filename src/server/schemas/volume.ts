// POST /volumes/create (volume.VolumeCreateBody, as dockerd 20.10 names it). Names and driver
// options are the volume service's to judge (its messages name the volume).
import { any, map, string, struct, topLevel, type Out } from "./go-json.ts";

const labels = map(string, "map[string]string");
const body = struct("volume.VolumeCreateBody", "VolumeCreateBody", {
  Name: string,
  Driver: string,
  DriverOpts: labels,
  Labels: labels,
  ClusterVolumeSpec: any,
});

export const VolumeCreateBody = topLevel(body);
export type VolumeCreateBody = Out<typeof body>;
