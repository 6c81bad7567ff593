// `-c` changes of `ctr commit` and `ctr import`: the Dockerfile instructions
// that describe a runtime config, applied to one (Docker's allowed subset).
import { InvalidParameterError } from "../errors.ts";

/** Applies `-c` instructions (the subset of Dockerfile that docker commit accepts). */
export function applyChanges(config: Record<string, unknown>, changes: readonly string[]): Record<string, unknown> {
  const out = { ...config };
  for (const line of changes.flatMap((c) => c.split("\n")).map((l) => l.trim()).filter(Boolean)) {
    const m = /^(\S+)\s*(.*)$/s.exec(line)!;
    const instr = m[1]!.toUpperCase();
    const rest = m[2]!.trim();
    switch (instr) {
      case "CMD":
        out.Cmd = commandForm(rest);
        break;
      case "ENTRYPOINT":
        out.Entrypoint = commandForm(rest);
        break;
      case "ENV":
        out.Env = setEnv((out.Env as string[] | undefined) ?? [], keyValues(rest, instr));
        break;
      case "LABEL":
        out.Labels = { ...((out.Labels as Record<string, string> | undefined) ?? {}), ...Object.fromEntries(keyValues(rest, instr)) };
        break;
      case "EXPOSE":
        out.ExposedPorts = { ...((out.ExposedPorts as Record<string, object> | undefined) ?? {}), ...Object.fromEntries(words(rest).map((p) => [p.includes("/") ? p : `${p}/tcp`, {}])) };
        break;
      case "VOLUME":
        out.Volumes = { ...((out.Volumes as Record<string, object> | undefined) ?? {}), ...Object.fromEntries(listForm(rest).map((v) => [v, {}])) };
        break;
      case "USER":
        out.User = rest;
        break;
      case "WORKDIR":
        out.WorkingDir = rest;
        break;
      case "STOPSIGNAL":
        out.StopSignal = rest;
        break;
      default:
        throw new InvalidParameterError(`${instr} is not a valid change command`);
    }
  }
  return out;
}

/** JSON array form, or shell form run by /bin/sh -c. */
function commandForm(s: string): string[] {
  if (s.startsWith("[")) return jsonList(s);
  return ["/bin/sh", "-c", s];
}

function listForm(s: string): string[] {
  return s.startsWith("[") ? jsonList(s) : words(s);
}

function jsonList(s: string): string[] {
  try {
    const v = JSON.parse(s) as unknown;
    if (Array.isArray(v) && v.every((x) => typeof x === "string")) return v;
  } catch {}
  throw new InvalidParameterError(`invalid JSON array: ${s}`);
}

function words(s: string): string[] {
  return s.split(/\s+/).filter(Boolean);
}

const unquote = (s: string) => s.replace(/^"(.*)"$/s, "$1").replace(/^'(.*)'$/s, "$1");

/** `K=V K2="V 2"` or the old `K V` form. */
function keyValues(s: string, instr: string): [string, string][] {
  if (!s.includes("=")) {
    const [k, ...v] = words(s);
    if (!k) throw new InvalidParameterError(`${instr} requires at least one argument`);
    return [[k, v.join(" ")]];
  }
  const out: [string, string][] = [];
  for (const m of s.matchAll(/([^\s=]+)=("[^"]*"|'[^']*'|\S*)/g)) out.push([m[1]!, unquote(m[2]!)]);
  return out;
}

function setEnv(env: string[], kvs: [string, string][]): string[] {
  const out = [...env];
  for (const [k, v] of kvs) {
    const i = out.findIndex((e) => e.split("=")[0] === k);
    if (i >= 0) out[i] = `${k}=${v}`;
    else out.push(`${k}=${v}`);
  }
  return out;
}
