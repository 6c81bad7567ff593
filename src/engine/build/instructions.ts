// The instructions that only change the image config (ENV, LABEL, CMD, …):
// pure functions from the run config and an instruction to the new config and
// the history text dockerd's classic builder writes for it (`#(nop)` lines,
// Go's %q/%v renderings included, as `docker history` shows them).
import { posix } from "node:path";
import { InvalidParameterError } from "../errors.ts";
import { checkFlags, flagValue, jsonForm, type Instruction } from "./parse.ts";
import type { RunConfig } from "./image.ts";
import { expandWord, expandWords, type Vars } from "./words.ts";

export interface MetaResult {
  run: RunConfig;
  /** The text after `#(nop)  ` in the history. */
  comment: string;
  cmdSet?: boolean;
  author?: string;
}

/** Go's %q of a []string: ["a" "b"]. */
export const goQuoteList = (l: readonly string[]) => `[${l.map((s) => JSON.stringify(s)).join(" ")}]`;
/** Go's %v of a []string: [a b]. */
export const goList = (l: readonly string[]) => `[${l.join(" ")}]`;

/** Splits `k=v k2="v 2"` into raw words (quotes kept), as moby's parseWords. */
export function rawWords(s: string, escape: string): string[] {
  const out: string[] = [];
  let cur = "";
  let quote: string | null = null;
  let has = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (quote) {
      if (c === escape && quote === '"' && i + 1 < s.length) {
        cur += c + s[++i];
        continue;
      }
      if (c === quote) quote = null;
      cur += c;
      continue;
    }
    if (c === escape && i + 1 < s.length) {
      cur += c + s[++i];
      has = true;
      continue;
    }
    if (c === '"' || c === "'") {
      quote = c;
      cur += c;
      has = true;
      continue;
    }
    if (/\s/.test(c)) {
      if (has) out.push(cur);
      cur = "";
      has = false;
      continue;
    }
    cur += c;
    has = true;
  }
  if (quote) throw new InvalidParameterError(`unexpected end of statement while looking for matching ${quote === '"' ? "double" : "single"}-quote`);
  if (has) out.push(cur);
  return out;
}

/** ENV/LABEL/ARG pairs: `k=v …` or the legacy `k v` form, values expanded against `vars`. */
export function keyValues(ins: Instruction, vars: Vars, escape: string, legacy = true): [string, string][] {
  const words = rawWords(ins.args, escape);
  if (!words.length) throw new InvalidParameterError(`${ins.keyword} requires at least one argument`);
  if (!words[0]!.includes("=")) {
    if (!legacy) return words.map((w) => [expandWord(w, vars, escape), ""]);
    if (words.length < 2) throw new InvalidParameterError(`${ins.keyword} must have two arguments`);
    const key = words[0]!;
    const rest = ins.args.trim().slice(key.length).trim();
    return [[key, expandWord(rest, vars, escape)]];
  }
  return words.map((w) => {
    const eq = w.indexOf("=");
    if (eq <= 0) throw new InvalidParameterError(`Syntax error - can't find = in "${w}". Must be of the form: name=value`);
    return [expandWord(w.slice(0, eq), vars, escape), expandWord(w.slice(eq + 1), vars, escape)];
  });
}

export function setEnv(env: string[], k: string, v: string): string[] {
  const out = env.filter((e) => e.split("=")[0] !== k);
  const i = env.findIndex((e) => e.split("=")[0] === k);
  if (i >= 0) {
    const copy = [...env];
    copy[i] = `${k}=${v}`;
    return copy;
  }
  return [...out, `${k}=${v}`];
}

/** CMD/ENTRYPOINT/RUN argv: JSON form as is, shell form through the SHELL. */
export function commandOf(ins: Instruction, shell: readonly string[]): { argv: string[]; json: boolean } {
  const j = jsonForm(ins.args);
  if (j) return { argv: j, json: true };
  return { argv: [...shell, ins.args], json: false };
}

const UNIT_NS: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** Go's time.ParseDuration for the forms a Dockerfile uses (30s, 1m30s, 500ms). */
export function parseDuration(s: string, flag: string): number {
  if (s === "0") return 0;
  let total = 0;
  let rest = s;
  while (rest) {
    const m = /^(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/.exec(rest);
    if (!m) throw new InvalidParameterError(`Cannot parse duration for --${flag}: time: invalid duration "${s}"`);
    total += Number(m[1]) * UNIT_NS[m[2]!]!;
    rest = rest.slice(m[0].length);
  }
  return Math.round(total);
}

/** Go's Duration.String for whole milliseconds and up (what a Dockerfile can say). */
export function goDuration(ns: number): string {
  if (ns === 0) return "0s";
  if (ns < 1e9) {
    if (ns % 1e6 === 0) return `${ns / 1e6}ms`;
    if (ns % 1e3 === 0) return `${ns / 1e3}µs`;
    return `${ns}ns`;
  }
  let out = "";
  let rest = ns;
  const h = Math.floor(rest / 3600e9);
  rest -= h * 3600e9;
  const m = Math.floor(rest / 60e9);
  rest -= m * 60e9;
  if (h) out += `${h}h`;
  if (h || m) out += `${m}m`;
  const sec = rest / 1e9;
  out += `${Number.isInteger(sec) ? sec : String(Number(sec.toFixed(9)))}s`;
  return out;
}

/** Go's %q of an int (a rune literal): 0 → '\x00', 3 → '\x03', 65 → 'A'. */
function goRune(n: number): string {
  if (n >= 0x20 && n < 0x7f && n !== 0x27 && n !== 0x5c) return `'${String.fromCharCode(n)}'`;
  if (n < 0x100) return `'\\x${n.toString(16).padStart(2, "0")}'`;
  return `'\\u${n.toString(16).padStart(4, "0")}'`;
}

function healthcheck(ins: Instruction, run: RunConfig): MetaResult {
  checkFlags(ins, ["interval", "timeout", "start-period", "start-interval", "retries"]);
  const args = ins.args.trim();
  const word = args.split(/\s+/)[0]!.toUpperCase();
  if (word === "NONE") {
    if (args.split(/\s+/).length > 1) throw new InvalidParameterError("HEALTHCHECK NONE takes no arguments");
    const hc = { Test: ["NONE"] };
    return { run: { ...run, Healthcheck: hc }, comment: `HEALTHCHECK &{["NONE"] "0s" "0s" "0s" '\\x00'}` };
  }
  if (word !== "CMD") throw new InvalidParameterError(`Unknown type "${word}" in HEALTHCHECK (try CMD)`);
  const rest = args.slice(3).trim();
  const j = jsonForm(rest);
  const test = j ? ["CMD", ...j] : ["CMD-SHELL", rest];
  const dur = (f: string) => {
    const v = flagValue(ins, f);
    const ns = v ? parseDuration(v, f) : 0;
    if (ns !== 0 && ns < 1e6) throw new InvalidParameterError(`Interval "${f}" cannot be less than 1ms`);
    return ns;
  };
  const interval = dur("interval");
  const timeout = dur("timeout");
  const startPeriod = dur("start-period");
  const startInterval = dur("start-interval");
  const retriesText = flagValue(ins, "retries");
  const retries = retriesText ? Number(retriesText) : 0;
  if (!Number.isInteger(retries) || retries < 0) throw new InvalidParameterError(`--retries cannot be negative (${retriesText})`);
  const hc: Record<string, unknown> = { Test: test };
  if (interval) hc.Interval = interval;
  if (timeout) hc.Timeout = timeout;
  if (startPeriod) hc.StartPeriod = startPeriod;
  if (startInterval) hc.StartInterval = startInterval;
  if (retries) hc.Retries = retries;
  const comment = `HEALTHCHECK &{${goQuoteList(test)} "${goDuration(interval)}" "${goDuration(timeout)}" "${goDuration(startPeriod)}" ${goRune(retries)}}`;
  return { run: { ...run, Healthcheck: hc }, comment };
}

function exposedPorts(words: string[]): string[] {
  const out: string[] = [];
  for (const w of words) {
    const [range, proto = "tcp"] = w.split("/") as [string, string?];
    const m = /^(\d+)(?:-(\d+))?$/.exec(range);
    if (!m) throw new InvalidParameterError(`Invalid containerPort: ${range}`);
    const lo = Number(m[1]);
    const hi = m[2] ? Number(m[2]) : lo;
    if (hi < lo) throw new InvalidParameterError(`Invalid range specified for the containerPort: ${range}`);
    for (let p = lo; p <= hi; p++) out.push(`${p}/${proto.toLowerCase()}`);
  }
  return out;
}

/** Applies one config-only instruction. `vars` are the stage's env and args in effect. */
export function applyMeta(ins: Instruction, run: RunConfig, ctx: { vars: Vars; escape: string; shell: readonly string[] }): MetaResult {
  const { vars, escape } = ctx;
  if (ins.keyword !== "HEALTHCHECK") checkFlags(ins, []);
  switch (ins.keyword) {
    case "ENV": {
      let env = run.Env;
      const kvs = keyValues(ins, vars, escape);
      for (const [k, v] of kvs) env = setEnv(env, k, v);
      return { run: { ...run, Env: env }, comment: `ENV ${kvs.map(([k, v]) => `${k}=${v}`).join(" ")}` };
    }
    case "LABEL": {
      const kvs = keyValues(ins, vars, escape);
      return { run: { ...run, Labels: { ...(run.Labels ?? {}), ...Object.fromEntries(kvs) } }, comment: `LABEL ${kvs.map(([k, v]) => `${k}=${v}`).join(" ")}` };
    }
    case "MAINTAINER": {
      const who = ins.args.trim();
      if (!who) throw new InvalidParameterError("MAINTAINER requires exactly one argument");
      return { run, comment: `MAINTAINER ${who}`, author: who };
    }
    case "EXPOSE": {
      const words = expandWords(ins.args, vars, escape);
      if (!words.length) throw new InvalidParameterError("EXPOSE requires at least one argument");
      const ports = exposedPorts(words);
      return { run: { ...run, ExposedPorts: { ...(run.ExposedPorts ?? {}), ...Object.fromEntries(ports.map((p) => [p, {}])) } }, comment: `EXPOSE ${words.join(" ")}` };
    }
    case "VOLUME": {
      const j = jsonForm(ins.args);
      const vols = (j ?? expandWords(ins.args, vars, escape)).map((v) => (j ? expandWord(v, vars, escape) : v));
      if (!vols.length || vols.some((v) => !v.trim())) throw new InvalidParameterError("VOLUME specified can not be an empty string");
      return { run: { ...run, Volumes: { ...(run.Volumes ?? {}), ...Object.fromEntries(vols.map((v) => [v, {}])) } }, comment: `VOLUME ${goList(vols)}` };
    }
    case "USER": {
      const user = expandWord(ins.args.trim(), vars, escape);
      if (!user) throw new InvalidParameterError("USER requires exactly one argument");
      return { run: { ...run, User: user }, comment: `USER ${user}` };
    }
    case "STOPSIGNAL": {
      const sig = expandWord(ins.args.trim(), vars, escape);
      if (!sig) throw new InvalidParameterError("STOPSIGNAL requires exactly one argument");
      if (!/^(SIG)?[A-Z0-9+-]+$|^\d+$/.test(sig)) throw new InvalidParameterError(`Invalid signal: ${sig}`);
      return { run: { ...run, StopSignal: sig }, comment: `STOPSIGNAL ${sig}` };
    }
    case "CMD": {
      const { argv } = commandOf(ins, ctx.shell);
      return { run: { ...run, Cmd: argv }, comment: `CMD ${goQuoteList(argv)}`, cmdSet: true };
    }
    case "ENTRYPOINT": {
      const { argv } = commandOf(ins, ctx.shell);
      return { run: { ...run, Entrypoint: argv }, comment: `ENTRYPOINT ${goQuoteList(argv)}` };
    }
    case "SHELL": {
      const j = jsonForm(ins.args);
      if (!j || !j.length) throw new InvalidParameterError("SHELL requires the arguments to be in JSON form");
      return { run: { ...run, Shell: j }, comment: `SHELL ${goList(j)}` };
    }
    case "HEALTHCHECK":
      return healthcheck(ins, run);
    case "ONBUILD": {
      const trigger = ins.args.trim();
      const kw = trigger.split(/\s+/)[0]!.toUpperCase();
      if (kw === "ONBUILD") throw new InvalidParameterError("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
      if (kw === "FROM" || kw === "MAINTAINER") throw new InvalidParameterError(`${kw} isn't allowed as an ONBUILD trigger`);
      const expr = kw + trigger.slice(kw.length);
      return { run: { ...run, OnBuild: [...(run.OnBuild ?? []), expr] }, comment: `ONBUILD ${expr}` };
    }
    default:
      throw new InvalidParameterError(`not a config instruction: ${ins.keyword}`);
  }
}

/** WORKDIR's new path: relative to the previous one, cleaned. */
export function workdirOf(ins: Instruction, run: RunConfig, vars: Vars, escape: string): string {
  const p = expandWord(ins.args.trim(), vars, escape);
  if (!p) throw new InvalidParameterError("WORKDIR requires exactly one argument");
  return posix.isAbsolute(p) ? posix.normalize(p) : posix.join(run.WorkingDir || "/", p);
}
