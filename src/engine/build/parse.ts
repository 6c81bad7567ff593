// Dockerfile text → stages of instructions. The syntax (continuations, the
// escape directive, comments, flags, heredocs) is dockerfile-ast's, the
// parser behind the Dockerfile language server; what the instructions mean is
// ours (steps.ts). A `# syntax=` directive is read and never fetched: this
// builder understands the dockerfile:1 syntax itself.
import { DockerfileParser } from "dockerfile-ast";
import { InvalidParameterError } from "../errors.ts";

export interface Flag {
  name: string;
  value: string;
}

export interface Heredoc {
  name: string;
  content: string;
  /** Unquoted delimiter: variables in the body are expanded. */
  expand: boolean;
}

export interface Instruction {
  keyword: string;
  /** Arguments without flags, continuations folded (Docker's node.Next text). */
  args: string;
  flags: Flag[];
  heredocs: Heredoc[];
  /** 1-based line of the instruction. */
  line: number;
  /** What `Step N/M :` shows: the instruction as written, continuations folded. */
  original: string;
  /** The arguments as written, heredoc bodies included (RUN hands them to the shell). */
  raw: string;
}

export interface Stage {
  index: number;
  /** `FROM x AS name`, lower-cased like Docker. */
  name: string | null;
  /** The FROM instruction (base image text, unexpanded). */
  from: Instruction;
  base: string;
  instructions: Instruction[];
}

export interface Dockerfile {
  escape: string;
  syntax: string | null;
  /** ARGs before the first FROM: usable in FROM lines and re-declared in stages. */
  globalArgs: Instruction[];
  stages: Stage[];
}

export const KNOWN = new Set([
  "ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM", "HEALTHCHECK", "LABEL", "MAINTAINER",
  "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR",
]);

/** Docker's parse error text; the API answers it as a 400 before the build starts. */
export class DockerfileParseError extends InvalidParameterError {
  constructor(line: number, msg: string) {
    super(`dockerfile parse error line ${line}: ${msg}`);
  }
}

/** Flags each instruction takes; any other is a parse error before the build starts, as dockerd's. */
const FLAGS: Record<string, readonly string[]> = {
  FROM: ["platform"],
  RUN: ["mount", "network", "security"],
  COPY: ["from", "chown", "chmod", "link"],
  ADD: ["chown", "chmod", "link"],
  HEALTHCHECK: ["interval", "timeout", "start-period", "start-interval", "retries"],
};

const HEREDOC_RE = /<<(-?)(["']?)([A-Za-z_][A-Za-z0-9_]*)\2/g;

export function parseDockerfile(text: string): Dockerfile {
  const df = DockerfileParser.parse(text);
  const lines = text.split("\n");
  const escape = df.getEscapeCharacter();
  const syntax = df.getDirectives().find((d) => d.getDirective() === "syntax")?.getValue() ?? null;
  const out: Dockerfile = { escape, syntax, globalArgs: [], stages: [] };
  for (const raw of df.getInstructions()) {
    const ins = toInstruction(raw, lines);
    if (!KNOWN.has(ins.keyword)) throw new DockerfileParseError(ins.line, `unknown instruction: ${raw.getInstruction().toUpperCase()}`);
    for (const f of ins.flags) if (!(FLAGS[ins.keyword] ?? []).includes(f.name)) throw new DockerfileParseError(ins.line, `Unknown flag: ${f.name}`);
    if (ins.keyword === "FROM") {
      out.stages.push(stageOf(ins, out.stages.length));
      continue;
    }
    const stage = out.stages.at(-1);
    if (stage) stage.instructions.push(ins);
    else if (ins.keyword === "ARG") out.globalArgs.push(ins);
    else throw new InvalidParameterError("no build stage in current context");
  }
  if (!out.stages.length) throw new InvalidParameterError("the Dockerfile (Dockerfile) cannot be empty");
  return out;
}

function stageOf(from: Instruction, index: number): Stage {
  const words = from.args.trim().split(/\s+/).filter(Boolean);
  let name: string | null = null;
  if (words.length === 3 && words[1]!.toUpperCase() === "AS") name = words[2]!.toLowerCase();
  else if (words.length !== 1) throw new DockerfileParseError(from.line, `FROM requires either one or three arguments`);
  if (name !== null && !/^[a-z][a-z0-9-_.]*$/.test(name)) {
    throw new InvalidParameterError(`invalid name for build stage: "${name}", name can't start with a number or contain symbols`);
  }
  return { index, name, from, base: words[0]!, instructions: [] };
}

interface AstInstruction {
  getKeyword(): string;
  getInstruction(): string;
  getArgumentsContent(): string | null;
  getRawArgumentsContent(): string | null;
  getRange(): { start: { line: number } };
  getFlags?: () => { getName(): string; getValue(): string | null }[];
  getHeredocs?: () => { getName(): string; getContentRange(): { start: { line: number }; end: { line: number } } | null }[];
}

function toInstruction(i: unknown, lines: string[]): Instruction {
  const raw = i as AstInstruction;
  const keyword = raw.getKeyword().toUpperCase();
  const flags = (raw.getFlags?.() ?? []).map((f) => ({ name: f.getName(), value: f.getValue() ?? "" }));
  const docs = raw.getHeredocs?.() ?? [];
  let args = raw.getArgumentsContent() ?? "";
  const heredocs: Heredoc[] = [];
  if (docs.length) {
    // The command is the first line; the bodies follow it.
    const rawArgs = raw.getRawArgumentsContent() ?? "";
    args = rawArgs.split("\n")[0]!;
    const marks = [...args.matchAll(HEREDOC_RE)];
    docs.forEach((d, n) => {
      const mark = marks[n];
      const r = d.getContentRange();
      let content = r ? lines.slice(r.start.line, r.end.line + 1).join("\n") + "\n" : "";
      if (mark?.[1] === "-") content = content.replace(/^\t+/gm, "");
      heredocs.push({ name: d.getName(), content, expand: !mark?.[2] });
    });
  }
  const flagText = flags.map((f) => `--${f.name}=${f.value}`).join(" ");
  const original = [raw.getInstruction(), flagText, args].filter(Boolean).join(" ");
  return { keyword, args, flags, heredocs, line: raw.getRange().start.line + 1, original, raw: raw.getRawArgumentsContent() ?? "" };
}

/** The values of a repeatable flag (`--mount` may appear several times). */
export function flagValues(ins: Instruction, name: string): string[] {
  return ins.flags.filter((f) => f.name === name).map((f) => f.value);
}

export function flagValue(ins: Instruction, name: string): string | undefined {
  return flagValues(ins, name).at(-1);
}

/** Flags an instruction accepts; any other is Docker's "Unknown flag" error. */
export function checkFlags(ins: Instruction, allowed: readonly string[]): void {
  for (const f of ins.flags) if (!allowed.includes(f.name)) throw new InvalidParameterError(`Dockerfile parse error line ${ins.line}: Unknown flag: ${f.name}`);
}

/** `["a", "b"]` → the list; null when the text is not a JSON array of strings (shell form). */
export function jsonForm(s: string): string[] | null {
  const t = s.trim();
  if (!t.startsWith("[")) return null;
  try {
    const v = JSON.parse(t) as unknown;
    if (Array.isArray(v) && v.every((x) => typeof x === "string")) return v;
  } catch {}
  return null;
}
