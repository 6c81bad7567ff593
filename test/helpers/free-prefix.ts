// Fixed subnets for differential suites that a dirty host does not already route.
//
// A bridge left by a killed run (dockerd's br-<id> outlive a SIGKILLed suite)
// keeps its connected route even with no port ("linkdown"), and the kernel
// keeps using the first such route (ignore_routes_with_linkdown is 0 by
// default): a new network on the same subnet then gets no replies from the
// host — its embedded DNS answers go to the dead bridge, which looks like a
// resolver that fails now and then. So suites pick /16s no host route touches.

/** The host's IPv4 routes, as [first address, prefix length]. */
function hostRoutes(): [number, number][] {
  const out = Bun.spawnSync(["ip", "-j", "-4", "route", "show", "table", "all"]).stdout.toString();
  const routes = JSON.parse(out || "[]") as { dst?: string }[];
  const parsed: [number, number][] = [];
  for (const r of routes) {
    const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)(?:\/(\d+))?$/.exec(r.dst ?? "");
    if (!m) continue; // default, broadcast names…
    const addr = ((+m[1]! << 24) | (+m[2]! << 16) | (+m[3]! << 8) | +m[4]!) >>> 0;
    parsed.push([addr, m[5] === undefined ? 32 : +m[5]]);
  }
  return parsed;
}

/** Does 10.<second>.0.0/16 overlap any of `routes` (default routes excluded)? */
function routed(second: number, routes: [number, number][]): boolean {
  const base = ((10 << 24) | (second << 16)) >>> 0;
  return routes.some(([addr, len]) => {
    if (len === 0) return false;
    const bits = Math.min(len, 16);
    const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
    return ((addr & mask) >>> 0) === ((base & mask) >>> 0);
  });
}

/**
 * `count` prefixes "10.<n>" whose /16s no host route touches, starting the
 * search at 10.<start> (wrapping within 10.<lo>–10.<hi>), distinct from each other.
 */
export function freePrefixes(count: number, start: number, lo = 100, hi = 250): string[] {
  const routes = hostRoutes();
  const picked: string[] = [];
  const span = hi - lo + 1;
  for (let i = 0; i < span && picked.length < count; i++) {
    const second = lo + ((start - lo + i) % span);
    if (!routed(second, routes)) picked.push(`10.${second}`);
  }
  if (picked.length < count) throw new Error(`no free 10.x.0.0/16 left between 10.${lo} and 10.${hi} on this host`);
  return picked;
}
