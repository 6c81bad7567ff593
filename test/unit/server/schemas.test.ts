// The API edge's decoding without a dockerd: Go's words for JSON syntax and type
// errors, dockerd's rules, unknown keys dropped. The differential suite checks
// the same texts against Debian's dockerd.
import { describe, expect, test } from "bun:test";
import { parseJsonText } from "../../../src/server/schemas/json-text.ts";
import { validate } from "../../../src/server/schemas/go-json.ts";
import { ContainerCreateBody, ExecCreateBody, VolumeCreateBody } from "../../../src/server/schemas/index.ts";

const err = (text: string, reader?: "decoder" | "unmarshal") => {
  const r = parseJsonText(text, reader);
  return r.ok ? "ok" : r.message;
};

describe("JSON text with encoding/json's scanner errors", () => {
  test("syntax errors", () => {
    expect(err("{oops")).toBe("invalid character 'o' looking for beginning of object key string");
    expect(err('{"a":1,}')).toBe("invalid character '}' looking for beginning of object key string");
    expect(err('{"a" 1}')).toBe("invalid character '1' after object key");
    expect(err("[1 2]")).toBe("invalid character '2' after array element");
    expect(err("trux")).toBe("invalid character 'x' in literal true (expecting 'e')");
    expect(err('"\u0001"')).toBe("invalid character '\\x01' in string literal");
    expect(err('{"a":-}')).toBe("invalid character '}' in numeric literal");
  });
  test("truncated: the decoder's and Unmarshal's words", () => {
    expect(err('{"a":')).toBe("unexpected EOF");
    expect(err('{"a":', "unmarshal")).toBe("unexpected end of JSON input");
  });
  test("nesting: 10,000 levels pass, one more is refused", () => {
    expect(err("[".repeat(10_000) + "]".repeat(10_000))).toBe("ok");
    expect(err("[".repeat(10_001) + "]".repeat(10_001))).toBe("invalid character '[' exceeded max depth");
  });
  test("the decoder reads one value, Unmarshal refuses what follows", () => {
    expect(parseJsonText("{} x")).toEqual({ ok: true, value: {} });
    expect(err("{} x", "unmarshal")).toBe("invalid character 'x' after top-level value");
  });
});

describe("Engine API schemas", () => {
  const create = (body: unknown) => validate(ContainerCreateBody(), body);
  test("Go's type errors name the struct and the field path", () => {
    expect(create({ Image: "x", Tty: "yes" })).toEqual({ ok: false, message: "json: cannot unmarshal string into Go struct field ContainerConfigWrapper.Tty of type bool" });
    expect(create({ Image: "x", HostConfig: { Memory: 1.5 } })).toEqual({
      ok: false,
      message: "json: cannot unmarshal number 1.5 into Go struct field HostConfig.HostConfig.Memory of type int64",
    });
    expect(create({ Image: "x", HostConfig: { PortBindings: { "80/tcp": [{ HostPort: 80 }] } } })).toEqual({
      ok: false,
      message: "json: cannot unmarshal number into Go struct field PortBinding.HostConfig.PortBindings.HostPort of type string",
    });
    expect(create([])).toEqual({ ok: false, message: "json: cannot unmarshal array into Go value of type runconfig.ContainerConfigWrapper" });
  });
  test("a type error wins over a rule, as decoding comes first in dockerd", () => {
    expect(create({ Image: "x", WorkingDir: "rel", Labels: { a: 1 } })).toEqual({
      ok: false,
      message: "json: cannot unmarshal number into Go struct field ContainerConfigWrapper.Labels of type string",
    });
  });
  test("dockerd's rules", () => {
    expect(create({ Image: "x", HostConfig: { OomScoreAdj: 5000 } })).toEqual({ ok: false, message: "Invalid value 5000, range for oom score adj is [-1000, 1000]" });
    expect(create({ Image: "x", HostConfig: { CapAdd: ["bogus"] } })).toEqual({ ok: false, message: 'invalid CapAdd: unknown capability: "CAP_BOGUS"' });
    expect(validate(ExecCreateBody(), {})).toEqual({ ok: false, message: "No exec command specified" });
  });
  test("strslice takes a string, null leaves a field unset, unknown keys are dropped", () => {
    expect(create({ Image: "x", Cmd: "echo hi", Tty: null, Bogus: 1, HostConfig: { CapAdd: "NET_ADMIN", Nope: true } })).toEqual({
      ok: true,
      value: { Image: "x", Cmd: ["echo hi"], Tty: undefined, HostConfig: { CapAdd: ["NET_ADMIN"] } },
    });
    expect(validate(VolumeCreateBody(), { Name: "v", Labels: { a: "b" } })).toEqual({ ok: true, value: { Name: "v", Labels: { a: "b" } } });
  });
});
