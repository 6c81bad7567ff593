// POST /containers/{id}/update: container.UpdateConfig — the Resources embedded
// in HostConfig plus RestartPolicy, decoded as dockerd's encoding/json does.
import { int, string, struct, topLevel, type Out } from "./go-json.ts";
import { resourceFields } from "./container.ts";

const body = struct("container.UpdateConfig", "UpdateConfig", {
  ...resourceFields,
  RestartPolicy: struct("container.RestartPolicy", "RestartPolicy", { Name: string, MaximumRetryCount: int }),
});

export const ContainerUpdateBody = topLevel(body);
export type ContainerUpdateBody = Out<typeof body>;
