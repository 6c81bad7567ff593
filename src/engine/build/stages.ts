// Stages as a graph: a stage depends on the stages its FROM, COPY --from and
// RUN --mount from= name. The target's dependencies are all that is built;
// stages with no path between them run at the same time.
import { InvalidParameterError } from "../errors.ts";
import { flagValue, flagValues, type Dockerfile, type Stage } from "./parse.ts";
import { expandWord, type Vars } from "./words.ts";

/** The stage a name (or index) refers to, or null when it names an image. */
export function stageByName(df: Dockerfile, name: string, before: number): Stage | null {
  const n = name.toLowerCase();
  for (const s of df.stages.slice(0, before)) if (s.name === n) return s;
  if (/^\d+$/.test(n)) {
    const i = Number(n);
    if (i < before) return df.stages[i] ?? null;
    throw new InvalidParameterError(`invalid from flag value ${name}: refers to current or future build stage`);
  }
  return null;
}

/** Indices of the stages `stage` needs first. */
export function dependencies(df: Dockerfile, stage: Stage, globalVars: Vars): number[] {
  const deps = new Set<number>();
  const add = (name: string) => {
    const s = stageByName(df, name, stage.index);
    if (s) deps.add(s.index);
  };
  add(expandWord(stage.base, globalVars, df.escape));
  for (const ins of stage.instructions) {
    if (ins.keyword === "COPY" || ins.keyword === "ADD") {
      const from = flagValue(ins, "from");
      if (from) add(from);
    }
    if (ins.keyword === "RUN") {
      for (const m of flagValues(ins, "mount")) {
        const from = /(?:^|,)from=([^,]+)/.exec(m)?.[1];
        if (from) add(from);
      }
    }
  }
  return [...deps].sort((a, b) => a - b);
}

/** The target stage (by name; the last when none) and every stage it needs, in Dockerfile order. */
export function plan(df: Dockerfile, target: string | undefined, globalVars: Vars): { target: Stage; order: number[]; deps: Map<number, number[]> } {
  let t = df.stages.at(-1)!;
  if (target) {
    const found = df.stages.find((s) => s.name === target.toLowerCase());
    if (!found) throw new InvalidParameterError(`failed to reach build target ${target} in Dockerfile`);
    t = found;
  }
  const deps = new Map<number, number[]>();
  const need = new Set<number>();
  const visit = (s: Stage) => {
    if (need.has(s.index)) return;
    need.add(s.index);
    const d = dependencies(df, s, globalVars);
    deps.set(s.index, d);
    for (const i of d) visit(df.stages[i]!);
  };
  visit(t);
  return { target: t, order: [...need].sort((a, b) => a - b), deps };
}
