// exec-helper.c and exec-spawn.ts share two tables by position (syscall numbers, stage names):
// a C enum out of step with the TS list would make the child call the wrong syscall.
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { CALLS, STAGES } from "../../../src/kernel/exec-spawn.ts";

const source = readFileSync(join(import.meta.dir, "../../../src/kernel/exec-helper.c"), "utf8");

/** The members of the C enum whose first member is `first`, without the prefix, lower-cased. */
function cEnum(first: string, prefix: string): string[] {
  const body = new RegExp(`enum \\{\\s*(${first}[^}]*)\\}`).exec(source)![1]!;
  return body.split(",").map((m) => m.trim()).filter((m) => m && !m.endsWith("_COUNT")).map((m) => m.slice(prefix.length).toLowerCase());
}

test("the helper's NR_* enum is CALLS, in order", () => {
  expect(cEnum("NR_SETNS", "NR_")).toEqual([...CALLS]);
});

test("the helper's S_* enum has a name in STAGES for each stage, in order", () => {
  expect(cEnum("S_NONE", "S_").length).toBe(STAGES.length);
});
