// The network manager as the container lifecycle sees it (the `Networking`
// seam in containers/ports.ts): plug at start, unplug at stop/rm, files.
import type { Networking } from "../containers/ports.ts";
import type { Container } from "../containers/types.ts";
import type { NetworkManager } from "./manager.ts";
import { hostsFile, resolvConfFile } from "./files.ts";
import { modeKind, needsEndpoint, ownsNetns } from "./mode.ts";
import { bindingsOf } from "./publish.ts";
import { renderNetworkSettings } from "./render.ts";
import { NetnsPins } from "./netns-pins.ts";
import { configuredEndpoints, withShortIdAlias } from "../containers/endpoints.ts";
import { endpointRequest } from "./endpoint-request.ts";

const networkOf = (c: Container): string => {
  const m = c.hostConfig.NetworkMode;
  return !m || m === "default" ? "bridge" : m;
};

export function managedNetworking(m: NetworkManager, o: { netnsDir?: string } = {}): Networking {
  const pins = o.netnsDir ? new NetnsPins(o.netnsDir) : null;
  const keyOf = (c: Container, pid: number) => pins?.pinned(c.id) ?? `/proc/${pid}/ns/net`;
  const settingsOf = (c: Container, pid: number) => {
    const mode = networkOf(c);
    if (!needsEndpoint(mode)) return renderNetworkSettings(mode, [], [], ownsNetns(mode) ? { sandboxKey: keyOf(c, pid) } : {});
    return renderNetworkSettings(mode, m.endpointsOf(c.id), m.portsOf(c.id), {
      sandboxKey: keyOf(c, pid),
      exposed: c.config.ExposedPorts,
      configs: configuredEndpoints(c),
    });
  };
  return {
    needsNetns: (c) => ownsNetns(c.hostConfig.NetworkMode),

    async connect(c, pid) {
      const mode = networkOf(c);
      // A stable handle on the netns (dockerd's <exec root>/netns/<id>): CNI plugins keep the path.
      pins?.pin(c.id, pid);
      if (mode === "none") m.loopbackUp({ pid });
      if (!needsEndpoint(mode)) return settingsOf(c, pid);
      const eps = configuredEndpoints(c);
      // The NetworkMode's network first: it gets eth0, the default route and the published ports.
      const names = Object.keys(eps).filter((n) => needsEndpoint(n)).sort((a, b) => Number(b === mode) - Number(a === mode));
      const ports = bindingsOf(c.hostConfig.PortBindings, c.config.ExposedPorts, !!c.hostConfig.PublishAllPorts);
      for (const [i, name] of names.entries()) {
        const cfg = eps[name]!;
        const n = m.find(name);
        // Kept with the container (saved by the lifecycle after connect), as dockerd keeps the short-id alias.
        if (!n.isDefault) eps[name] = { ...cfg, Aliases: withShortIdAlias(c.id, cfg.Aliases) };
        await m.connect(n.id, {
          containerId: c.id,
          name: c.name,
          netns: { pid },
          // Config.MacAddress (API < 1.44) is the NetworkMode network's; newer clients set it per endpoint.
          ...endpointRequest(eps[name]!, c.hostConfig.Dns, name === mode ? (c.config.MacAddress as string | undefined) : undefined),
          ports: i === 0 ? ports : undefined,
        });
      }
      c.networking = { ...c.networking, EndpointsConfig: eps };
      return settingsOf(c, pid);
    },

    settings: (c, pid) => settingsOf(c, pid),

    sweep: (running) => pins?.sweep(new Set(running.map((id) => id.slice(0, 12)))),

    // The lifecycle disconnects only once the container's processes are gone.
    async disconnect(c) {
      pins?.unpin(c.id);
      await m.releaseExited(c.id);
    },

    files(c, linkHosts = []) {
      const mode = networkOf(c);
      const kind = modeKind(mode);
      // Written before connect (no address yet), and again in place once the
      // container's endpoints change (start, network connect/disconnect).
      const ips = m.endpointsOf(c.id).map((e) => e.ipAddress);
      const userNet = kind === "user" ? m.find(mode) : null;
      return {
        hosts: hostsFile({ hostname: c.config.Hostname, domainname: c.config.Domainname, ips, extraHosts: c.hostConfig.ExtraHosts, links: linkHosts }),
        resolvConf: resolvConfFile({
          // dockerd keeps its resolver with --dns too: the servers become where it forwards (connect passes them).
          resolver: userNet ? userNet.gateway : undefined,
          dns: c.hostConfig.Dns?.length ? c.hostConfig.Dns : m.daemonDns(),
          dnsSearch: c.hostConfig.DnsSearch,
          dnsOptions: c.hostConfig.DnsOptions,
        }),
      };
    },
  };
}
