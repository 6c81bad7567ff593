import { InvalidParameterError } from "../errors.ts";
import type { Container } from "./types.ts";
import { matchesLabels } from "../filters.ts";
import { configuredEndpoints } from "./endpoints.ts";

/** Docker's `ps` filters: values within one key OR (label: AND), keys AND. */
export function matchesFilters(c: Container, f: Record<string, string[]>, imageMatches: (ref: string, c: Container) => boolean): boolean {
  for (const [key, values] of Object.entries(f)) {
    if (!values.length) continue;
    if (key === "label") {
      if (!matchesLabels(c.config.Labels, values)) return false;
      continue;
    }
    const ok = values.some((v) => {
      switch (key) {
        case "id":
          return c.id.startsWith(v);
        case "name":
          return new RegExp(v).test(c.name) || new RegExp(v).test(`/${c.name}`);
        case "status":
          return c.state.Status === v;
        case "exited":
          return c.state.Status === "exited" && String(c.state.ExitCode) === v;
        case "ancestor":
          return imageMatches(v, c);
        case "network":
          return (c.hostConfig.NetworkMode ?? "bridge") === v || Object.hasOwn(configuredEndpoints(c), v);
        case "health":
          checkHealthFilter([v]);
          return (c.state.Health?.Status ?? "none") === v;
        case "before":
        case "since":
          return true; // applied on the ordered list by the caller
        default:
          throw new InvalidParameterError(`invalid filter '${key}'`);
      }
    });
    if (!ok) return false;
  }
  return true;
}

/** dockerd checks the health filter's values before listing anything. */
export function checkHealthFilter(values: string[] | undefined): void {
  for (const v of values ?? []) {
    if (!["starting", "healthy", "unhealthy", "none"].includes(v)) throw new InvalidParameterError(`Unrecognised filter value for health: ${v}`);
  }
}
