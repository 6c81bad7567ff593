// GET /networks and POST /networks/prune filters, as dockerd applies them
// (daemon/network/filter.go): name and id are regular expressions, driver and
// scope exact, label every one must hold, dangling and type last.
import { EngineError, InvalidParameterError } from "../errors.ts";
import { matchesLabels, parseLabelFilter } from "../filters.ts";
import type { DockerNetwork } from "./render.ts";

const ACCEPTED = new Set(["driver", "type", "name", "id", "label", "scope", "dangling"]);
const PREDEFINED = new Set(["bridge", "host", "none"]);

/** Go's filters.Args.Match: an exact value, or a regular expression found anywhere. */
function match(values: readonly string[], source: string): boolean {
  return values.some((v) => {
    if (v === source) return true;
    try {
      return new RegExp(v).test(source);
    } catch {
      return false;
    }
  });
}

function bool(key: string, v: string): boolean {
  if (["true", "1"].includes(v.toLowerCase())) return true;
  if (["false", "0"].includes(v.toLowerCase())) return false;
  throw new InvalidParameterError(`invalid value for filter '${key}', must be "true" (or "1"), or "false" (or "0")`);
}

export function filterNetworks(list: DockerNetwork[], f: Record<string, string[]>): DockerNetwork[] {
  for (const k of Object.keys(f)) if (!ACCEPTED.has(k)) throw new InvalidParameterError(`Invalid filter '${k}'`);
  let out = list.filter(
    (n) =>
      (!f.driver?.length || f.driver.includes(n.Driver)) &&
      (!f.name?.length || match(f.name, n.Name)) &&
      (!f.id?.length || match(f.id, n.Id)) &&
      (!f.label?.length || matchesLabels(n.Labels, f.label)) &&
      (!f.scope?.length || f.scope.includes(n.Scope)),
  );
  const dangling = f.dangling ?? [];
  if (dangling.length > 1) throw new InvalidParameterError(`got more than one value for filter key "dangling"`);
  if (dangling.length) {
    const want = bool("dangling", dangling[0]!);
    out = out.filter((n) => (!PREDEFINED.has(n.Name) && !Object.keys(n.Containers).length) === want);
  }
  if (f.type?.length) {
    for (const t of f.type) if (t !== "custom" && t !== "builtin") throw new EngineError(`invalid filter: 'type'='${t}'`); // dockerd: a 500
    out = out.filter((n) => f.type!.includes(PREDEFINED.has(n.Name) ? "builtin" : "custom"));
  }
  return out;
}

/** Prune's filters: label (all must hold), label! (none may), until. */
export function pruneKeeps(f: Record<string, string[]>): (n: { labels: Record<string, string>; created: string }) => boolean {
  for (const k of Object.keys(f)) if (!["label", "label!", "until"].includes(k)) throw new InvalidParameterError(`Invalid filter '${k}'`);
  const until = f.until?.[0] ? untilTime(f.until[0]) : undefined;
  return (n) => {
    if (f.label?.length && !matchesLabels(n.labels, f.label)) return true;
    if (f["label!"]?.some((l) => { const { key, value } = parseLabelFilter(l); return Object.hasOwn(n.labels, key) && (value === undefined || n.labels[key] === value); })) return true;
    if (until !== undefined && Date.parse(n.created) >= until) return true;
    return false;
  };
}

/** `until`: a Unix timestamp, an RFC 3339 time, or a Go duration before now (10m, 1h30m). */
function untilTime(v: string): number {
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v) * 1000;
  const d = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(v);
  if (d && v) return Date.now() - ((Number(d[1] ?? 0) * 60 + Number(d[2] ?? 0)) * 60 + Number(d[3] ?? 0)) * 1000;
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new InvalidParameterError(`failed to parse value as time or duration: "${v}"`);
  return t;
}
