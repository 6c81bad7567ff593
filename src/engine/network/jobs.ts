import { handle, jobType, type JobDef } from "../engine.ts";
import { EngineError, ForbiddenError, InvalidParameterError, NotFoundError } from "../errors.ts";
import { configuredEndpoints, withShortIdAlias, type EndpointsConfig } from "../containers/endpoints.ts";
import type { EndpointConfig } from "../containers/types.ts";
import type { IpamConfigEntry, NetworkRecord } from "./store.ts";
import { endpointRequest } from "./endpoint-request.ts";
import { filterNetworks, pruneKeeps } from "./filters.ts";
import type { ContainerService } from "../containers/service.ts";
import { stableId, type NetworkManager } from "./manager.ts";
import { renderBuiltin, renderNetwork, renderNetworkList, renderPorts, type DockerNetwork } from "./render.ts";

export interface NetworkCreateBody {
  Name?: string;
  Driver?: string;
  Internal?: boolean;
  Attachable?: boolean;
  Labels?: Record<string, string>;
  Options?: Record<string, string>;
  EnableIPv6?: boolean;
  IPAM?: { Options?: Record<string, string> | null; Config?: IpamConfigEntry[] | null } | null;
}

export const NetworkListJob = jobType<{ filters?: Record<string, string[]> }, DockerNetwork[]>("network-ls");
export const NetworkInspectJob = jobType<{ ref: string }, DockerNetwork>("network-inspect");
export const NetworkCreateJob = jobType<NetworkCreateBody, { Id: string; Warning: string }>("network-create");
export const NetworkRemoveJob = jobType<{ ref: string }, void>("network-rm");
export const NetworkPruneJob = jobType<{ filters?: Record<string, string[]> }, { NetworksDeleted: string[] | null }>("network-prune");
export const NetworkConnectJob = jobType<{ ref: string; container: string; config?: EndpointConfig }, void>("network-connect");
export const NetworkDisconnectJob = jobType<{ ref: string; container: string }, void>("network-disconnect");
export const PortJob = jobType<{ ref: string }, Record<string, { HostIp: string; HostPort: string }[] | null>>("port");

export function networkJobs(m: NetworkManager, containers: ContainerService): JobDef<any, any>[] {
  return [
    handle(NetworkListJob, (_c, a) => filterNetworks(renderNetworkList(m), a?.filters ?? {})),
    handle(
      NetworkInspectJob,
      (_c, a) => {
        const builtin = builtinNamed(a.ref, m);
        if (builtin) return renderBuiltin(builtin);
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
        const n = await m.create({
          name: b.Name, ipamConfigs: b.IPAM?.Config ?? [], ipamOptions: b.IPAM?.Options ?? null, enableIPv6: !!b.EnableIPv6,
          internal: !!b.Internal, attachable: !!b.Attachable, labels: b.Labels ?? {}, options: b.Options ?? {},
        });
        return { Id: n.id, Warning: "" };
      },
      (b) => [b.Name ?? ""],
    ),
    handle(
      NetworkRemoveJob,
      (_c, a) => {
        const builtin = builtinNamed(a.ref, m);
        if (builtin) throw new ForbiddenError(`${builtin} is a pre-defined network and cannot be removed`);
        return m.remove(a.ref);
      },
      (a) => [a.ref],
    ),
    handle(NetworkPruneJob, async (_c, a) => {
      const deleted = await m.prune(pruneKeeps(a?.filters ?? {}));
      // dockerd's report starts as a nil slice: null when nothing was deleted.
      return { NetworksDeleted: deleted.length ? deleted : null };
    }),
    handle(NetworkConnectJob, async (_c, a) => {
      const c = containers.get(a.container);
      const n = m.find(a.ref);
      const asked: EndpointConfig = a.config ?? {};
      const cfg = n.isDefault ? asked : { ...asked, Aliases: withShortIdAlias(c.id, asked.Aliases) };
      if (containers.isRunning(c.id)) {
        if (m.endpointsOf(c.id).some((e) => e.networkId === n.id)) throw new ForbiddenError(`endpoint with name ${c.name} already exists in network ${n.name}`);
        const { pid } = containers.process(c.id);
        await m.connect(n.id, { containerId: c.id, name: c.name, netns: { pid }, ...endpointRequest(cfg, c.hostConfig.Dns) });
      }
      // Not running: dockerd only records the network; it is plugged in at start.
      containers.setEndpoints(c.id, (eps) => ({ ...withoutNetwork(eps, n), [n.name]: cfg }));
      if (containers.isRunning(c.id)) containers.networkChanged(c.id);
    }),
    handle(NetworkDisconnectJob, async (_c, a) => {
      const c = containers.get(a.container);
      if (containers.isRunning(c.id)) {
        const n = m.find(a.ref);
        await m.disconnect(n.id, c.id);
        containers.setEndpoints(c.id, (eps) => withoutNetwork(eps, n));
        containers.networkChanged(c.id);
        return;
      }
      const n = m.list().find((x) => x.name === a.ref || x.id === a.ref || x.id.startsWith(a.ref));
      const eps = configuredEndpoints(c);
      if (!n || Object.keys(eps).length === Object.keys(withoutNetwork(eps, n)).length)
        throw new EngineError(`container ${c.id} is not connected to the network ${a.ref}`);
      containers.setEndpoints(c.id, (e) => withoutNetwork(e, n));
    }),
    handle(PortJob, (_c, a) => {
      const c = containers.get(a.ref);
      return renderPorts(m.portsOf(c.id), c.config.ExposedPorts);
    }),
  ];
}

/** The endpoints minus the one on `n` (keyed by its name, or by the id it was created with). */
function withoutNetwork(eps: EndpointsConfig, n: NetworkRecord): EndpointsConfig {
  return Object.fromEntries(Object.entries(eps).filter(([k]) => k !== n.name && k !== n.id && !(k.length >= 12 && n.id.startsWith(k))));
}

/** `host` or `none` when `ref` names one of them: by name, full id, or an id prefix no other network shares. */
function builtinNamed(ref: string, m: NetworkManager): "host" | "none" | null {
  for (const name of ["host", "none"] as const) {
    const id = stableId(name);
    if (ref === name || ref === id) return name;
    if (/^[0-9a-f]+$/.test(ref) && id.startsWith(ref) && !m.list().some((n) => n.id.startsWith(ref))) return name;
  }
  return null;
}
