import { handle, jobType, type JobDef } from "../engine.ts";
import { InvalidParameterError, NotFoundError } from "../errors.ts";
import type { ContainerService } from "../containers/service.ts";
import type { NetworkManager } from "./manager.ts";
import { renderBuiltin, renderNetwork, renderNetworkList, renderPorts, type DockerNetwork } from "./render.ts";

export interface NetworkCreateBody {
  Name?: string;
  Driver?: string;
  Internal?: boolean;
  Attachable?: boolean;
  Labels?: Record<string, string>;
  Options?: Record<string, string>;
  IPAM?: { Config?: { Subnet?: string; Gateway?: string }[] | null } | null;
}

export const NetworkListJob = jobType<void, DockerNetwork[]>("network-ls");
export const NetworkInspectJob = jobType<{ ref: string }, DockerNetwork>("network-inspect");
export const NetworkCreateJob = jobType<NetworkCreateBody, { Id: string; Warning: string }>("network-create");
export const NetworkRemoveJob = jobType<{ ref: string }, void>("network-rm");
export const NetworkPruneJob = jobType<void, { NetworksDeleted: string[] }>("network-prune");
export const NetworkConnectJob = jobType<{ ref: string; container: string; aliases?: string[]; ip?: string }, void>("network-connect");
export const NetworkDisconnectJob = jobType<{ ref: string; container: string }, void>("network-disconnect");
export const PortJob = jobType<{ ref: string }, Record<string, { HostIp: string; HostPort: string }[] | null>>("port");

export function networkJobs(m: NetworkManager, containers: ContainerService): JobDef<any, any>[] {
  return [
    handle(NetworkListJob, () => renderNetworkList(m)),
    handle(
      NetworkInspectJob,
      (_c, a) => {
        if (a.ref === "host" || a.ref === "none") return renderBuiltin(a.ref);
        const n = m.find(a.ref);
        return renderNetwork(n, m.endpoints(n.id));
      },
      (a) => [a.ref],
    ),
    handle(
      NetworkCreateJob,
      async (_c, b) => {
        if (!b.Name) throw new InvalidParameterError("network name is required");
        if (b.Driver && b.Driver !== "bridge") throw new NotFoundError(`plugin "${b.Driver}" not found`);
        const cfg = b.IPAM?.Config?.[0];
        const n = await m.create({ name: b.Name, subnet: cfg?.Subnet, gateway: cfg?.Gateway, internal: !!b.Internal, attachable: !!b.Attachable, labels: b.Labels ?? {}, options: b.Options ?? {} });
        return { Id: n.id, Warning: "" };
      },
      (b) => [b.Name ?? ""],
    ),
    handle(NetworkRemoveJob, (_c, a) => m.remove(a.ref), (a) => [a.ref]),
    handle(NetworkPruneJob, async () => ({ NetworksDeleted: await m.prune() })),
    handle(NetworkConnectJob, async (_c, a) => {
      const { c, pid } = containers.process(a.container);
      await m.connect(a.ref, { containerId: c.id, name: c.name, netns: { pid }, aliases: a.aliases, ip: a.ip });
      containers.networkChanged(c.id);
    }),
    handle(NetworkDisconnectJob, async (_c, a) => {
      const c = containers.get(a.container);
      await m.disconnect(a.ref, c.id);
      if (c.state.Running) containers.networkChanged(c.id);
    }),
    handle(PortJob, (_c, a) => {
      const c = containers.get(a.ref);
      return renderPorts(m.portsOf(c.id), c.config.ExposedPorts);
    }),
  ];
}
