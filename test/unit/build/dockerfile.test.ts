// The Dockerfile's pure parts: word expansion, parsing into stages, the
// config-only instructions and their history text, the stage graph.
import { describe, expect, test } from "bun:test";
import { expandWord, expandWords } from "../../../src/engine/build/words.ts";
import { parseDockerfile, DockerfileParseError } from "../../../src/engine/build/parse.ts";
import { applyMeta, goDuration, keyValues, parseDuration } from "../../../src/engine/build/instructions.ts";
import { plan } from "../../../src/engine/build/stages.ts";
import { runConfigOf } from "../../../src/engine/build/image.ts";
import { goJson } from "../../../src/engine/build/output.ts";

const vars = new Map([
  ["A", "1"],
  ["EMPTY", ""],
  ["SP", "a b"],
]);

describe("word expansion (Docker's shell lexer rules)", () => {
  test("plain, braces and modifiers", () => {
    expect(expandWord("$A ${A} x${A}y", vars)).toBe("1 1 x1y");
    expect(expandWord("${NOPE:-def} ${EMPTY:-def} ${EMPTY-def} ${A:-def}", vars)).toBe("def def  1");
    expect(expandWord("${A:+set} ${EMPTY:+set} ${EMPTY+set} ${NOPE+set}", vars)).toBe("set  set ");
    expect(expandWord("${NOPE:-${A}}", vars)).toBe("1");
    expect(() => expandWord("${NOPE:?must be set}", vars)).toThrow("NOPE: must be set");
  });
  test("quotes and escapes", () => {
    expect(expandWord(`'$A' "$A" \\$A "a\\"b"`, vars)).toBe(`$A 1 $A a"b`);
    expect(expandWord("`$A`", vars, "`")).toBe("$A`");
    expect(() => expandWord(`"open`, vars)).toThrow("double-quote");
  });
  test("words split on unquoted whitespace, and unquoted expansions split too", () => {
    expect(expandWords(`a "b c" $SP`, vars)).toEqual(["a", "b c", "a", "b"]);
  });
});

describe("parse", () => {
  test("stages, global args, directives, heredocs", () => {
    const df = parseDockerfile(`# syntax=docker/dockerfile:1\nARG BASE=x\nFROM $BASE AS Build\nRUN <<EOF\necho hi\nEOF\nFROM scratch\nCOPY --from=build /a /b\n`);
    expect(df.syntax).toBe("docker/dockerfile:1");
    expect(df.globalArgs.map((a) => a.args)).toEqual(["BASE=x"]);
    expect(df.stages.map((s) => [s.name, s.base])).toEqual([["build", "$BASE"], [null, "scratch"]]);
    const run = df.stages[0]!.instructions[0]!;
    expect(run.heredocs).toEqual([{ name: "EOF", content: "echo hi\n", expand: true }]);
    expect(df.stages[1]!.instructions[0]!.flags).toEqual([{ name: "from", value: "build" }]);
    expect(df.stages[1]!.instructions[0]!.original).toBe("COPY --from=build /a /b");
  });
  test("unknown instruction names its line", () => {
    expect(() => parseDockerfile("FROM scratch\n\nFOO bar\n")).toThrow(new DockerfileParseError(3, "unknown instruction: FOO"));
  });
  test("continuations keep the following line's indentation (dockerd's Step text)", () => {
    const df = parseDockerfile("FROM scratch\nENV A=1 \\\n    B=2\n");
    expect(df.stages[0]!.instructions[0]!.args).toBe("A=1     B=2");
  });
});

describe("config instructions", () => {
  const ctx = { vars, escape: "\\", shell: ["/bin/sh", "-c"] };
  const ins = (line: string) => parseDockerfile(`FROM scratch\n${line}\n`).stages[0]!.instructions[0]!;
  const base = runConfigOf(null);
  test("ENV: new and legacy forms, values expanded against the env before the instruction", () => {
    expect(keyValues(ins(`ENV X="a b" Y=$A`), vars, "\\")).toEqual([["X", "a b"], ["Y", "1"]]);
    expect(keyValues(ins(`ENV X a b c`), vars, "\\")).toEqual([["X", "a b c"]]);
    expect(applyMeta(ins("ENV A=2 B=$A"), { ...base, Env: ["A=1"] }, ctx).comment).toBe("ENV A=2 B=1");
  });
  test("history texts as dockerd renders them", () => {
    expect(applyMeta(ins(`CMD ["a", "b c"]`), base, ctx).comment).toBe(`CMD ["a" "b c"]`);
    expect(applyMeta(ins(`CMD echo hi`), base, ctx).run.Cmd).toEqual(["/bin/sh", "-c", "echo hi"]);
    expect(applyMeta(ins(`VOLUME /a /b`), base, ctx).comment).toBe("VOLUME [/a /b]");
    expect(applyMeta(ins(`HEALTHCHECK --interval=1m30s --retries=3 CMD ["true"]`), base, ctx)).toMatchObject({
      comment: `HEALTHCHECK &{["CMD" "true"] "1m30s" "0s" "0s" '\\x03'}`,
      run: { Healthcheck: { Test: ["CMD", "true"], Interval: 90e9, Retries: 3 } },
    });
    expect(applyMeta(ins(`EXPOSE 80 7000-7001/udp`), base, ctx).run.ExposedPorts).toEqual({ "80/tcp": {}, "7000/udp": {}, "7001/udp": {} });
    expect(() => applyMeta(ins(`SHELL /bin/bash -c`), base, ctx)).toThrow("SHELL requires the arguments to be in JSON form");
    expect(() => applyMeta(ins(`ONBUILD ONBUILD RUN x`), base, ctx)).toThrow("Chaining ONBUILD");
  });
  test("durations both ways", () => {
    expect(parseDuration("1m30s", "interval")).toBe(90e9);
    expect(parseDuration("500ms", "interval")).toBe(5e8);
    expect([goDuration(0), goDuration(5e9), goDuration(90e9), goDuration(3600e9), goDuration(5e8)]).toEqual(["0s", "5s", "1m30s", "1h0m0s", "500ms"]);
  });
});

describe("stage graph", () => {
  test("the target's dependencies only, by FROM, COPY --from and RUN --mount from=", () => {
    const df = parseDockerfile(
      "FROM scratch AS a\nFROM scratch AS b\nFROM scratch AS c\nRUN --mount=from=a,target=/x true\nFROM b AS d\nCOPY --from=c /x /y\nFROM scratch AS unused\n",
    );
    const p = plan(df, "d", new Map());
    expect(p.order).toEqual([0, 1, 2, 3]);
    expect(p.deps.get(3)).toEqual([1, 2]);
    expect(p.deps.get(2)).toEqual([0]);
    expect(() => plan(df, "nope", new Map())).toThrow("failed to reach build target nope in Dockerfile");
  });
});

test("JSON lines escape like Go's encoder", () => {
  expect(goJson({ stream: " ---> a & <b>" })).toBe(`{"stream":" ---\\u003e a \\u0026 \\u003cb\\u003e"}`);
});
