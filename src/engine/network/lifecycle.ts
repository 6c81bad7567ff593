// The network manager as the container lifecycle sees it (the `Networking`
// seam in containers/ports.ts): plug at start, unplug at stop/rm, files.
import type { Networking } from "../containers/ports.ts";
import type { Container } from "../containers/types.ts";
import type { NetworkManager } from "./manager.ts";
import { hostsFile, resolvConfFile } from "./files.ts";
import { modeKind, needsEndpoint } from "./mode.ts";
import { bindingsOf } from "./publish.ts";
import { renderNetworkSettings } from "./render.ts";

const networkOf = (c: Container): string => {
  const m = c.hostConfig.NetworkMode;
  return !m || m === "default" ? "bridge" : m;
};

export function managedNetworking(m: NetworkManager): Networking {
  const settingsOf = (c: Container, pid: number) => {
    const mode = networkOf(c);
    if (!needsEndpoint(mode)) return renderNetworkSettings(mode, [], []);
    return renderNetworkSettings(mode, m.endpointsOf(c.id), m.portsOf(c.id), { sandboxKey: `/proc/${pid}/ns/net`, exposed: c.config.ExposedPorts });
  };
  return {
    needsNetns: (c) => needsEndpoint(c.hostConfig.NetworkMode),

    async connect(c, pid) {
      const mode = networkOf(c);
      if (!needsEndpoint(mode)) return renderNetworkSettings(mode, [], []);
      // The docker CLI files the first network's settings under "default".
      const eps = c.networking.EndpointsConfig ?? {};
      const cfg = eps[mode] ?? eps.default;
      await m.connect(mode, {
        containerId: c.id,
        name: c.name,
        netns: { pid },
        aliases: cfg?.Aliases ?? [],
        ip: cfg?.IPAMConfig?.IPv4Address || undefined,
        ports: bindingsOf(c.hostConfig.PortBindings, c.config.ExposedPorts, !!c.hostConfig.PublishAllPorts),
      });
      // Further networks from `docker create --network` + `network connect` before start.
      for (const [name, ec] of Object.entries(c.networking.EndpointsConfig ?? {})) {
        if (name === mode || name === "default" || !needsEndpoint(name)) continue;
        await m.connect(name, { containerId: c.id, name: c.name, netns: { pid }, aliases: ec.Aliases ?? [], ip: ec.IPAMConfig?.IPv4Address || undefined });
      }
      return settingsOf(c, pid);
    },

    settings: (c, pid) => settingsOf(c, pid),

    // The lifecycle disconnects only once the container's processes are gone.
    async disconnect(c) {
      await m.releaseExited(c.id);
    },

    files(c) {
      const mode = networkOf(c);
      const kind = modeKind(mode);
      // Written before connect (no address yet), and again in place once the
      // container's endpoints change (start, network connect/disconnect).
      const ips = m.endpointsOf(c.id).map((e) => e.ipAddress);
      const userNet = kind === "user" ? m.find(mode) : null;
      return {
        hosts: hostsFile({ hostname: c.config.Hostname, domainname: c.config.Domainname, ips, extraHosts: c.hostConfig.ExtraHosts }),
        resolvConf: resolvConfFile({
          resolver: userNet && !c.hostConfig.Dns?.length ? userNet.gateway : undefined,
          dns: c.hostConfig.Dns,
          dnsSearch: c.hostConfig.DnsSearch,
          dnsOptions: c.hostConfig.DnsOptions,
        }),
      };
    },
  };
}
