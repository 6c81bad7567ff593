import { removeScratch, scratchDir } from "../../helpers/tmp.ts";
import { afterAll, describe, expect, test } from "bun:test";
import { readFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { JsonFileLogger, parseLogOpts, readLogs } from "../../../src/engine/logs/json-file.ts";
import { Demuxer, frame } from "../../../src/server/stdcopy.ts";

afterAll(removeScratch);

const enc = (s: string) => new TextEncoder().encode(s);
const collect = async (it: AsyncIterable<{ stream: string; log: string }>) => {
  const out: string[] = [];
  for await (const e of it) out.push(`${e.stream}:${e.log}`);
  return out;
};

describe("json-file logs", () => {
  test("lines become entries; partial lines wait for their end", async () => {
    const p = join(scratchDir("ctr-log-"), "c.log");
    const l = new JsonFileLogger(p);
    l.write("stdout", enc("a\nb"));
    l.write("stderr", enc("err\n"));
    l.write("stdout", enc("c\n"));
    l.write("stdout", enc("tail"));
    l.close();
    const first = JSON.parse(readFileSync(p, "utf8").split("\n")[0]!);
    expect(first).toMatchObject({ log: "a\n", stream: "stdout" });
    expect(first.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
    const all = { stdout: true, stderr: true, follow: false };
    expect(await collect(readLogs(p, all))).toEqual(["stdout:a\n", "stderr:err\n", "stdout:bc\n", "stdout:tail"]);
    expect(await collect(readLogs(p, { ...all, stderr: false, tail: 2 }))).toEqual(["stdout:bc\n", "stdout:tail"]);
    expect(await collect(readLogs(p, { ...all, since: Date.now() / 1000 + 60 }))).toEqual([]);
  });

  test("rotation keeps at most max-file files and tail reads across them", async () => {
    const p = join(scratchDir("ctr-log-"), "c.log");
    const l = new JsonFileLogger(p, parseLogOpts({ "max-size": "1k", "max-file": "3" }));
    for (let i = 0; i < 100; i++) l.write("stdout", enc(`line ${i}\n`));
    l.close();
    expect(existsSync(`${p}.1`)).toBe(true);
    expect(existsSync(`${p}.2`)).toBe(true);
    expect(existsSync(`${p}.3`)).toBe(false);
    const lines = await collect(readLogs(p, { stdout: true, stderr: true, follow: false }));
    expect(lines.at(-1)).toBe("stdout:line 99\n");
    expect(lines.length).toBeLessThan(100);
    expect(await collect(readLogs(p, { stdout: true, stderr: true, follow: false, tail: 3 }))).toEqual(["stdout:line 97\n", "stdout:line 98\n", "stdout:line 99\n"]);
  });

  test("bad log options are refused", () => {
    expect(() => parseLogOpts({ "max-size": "lots" })).toThrow("invalid max-size");
    expect(() => parseLogOpts({ "max-file": "0" })).toThrow("invalid max-file");
  });

  test("follow sees appended lines and ends when the container stops", async () => {
    const p = join(scratchDir("ctr-log-"), "c.log");
    const l = new JsonFileLogger(p);
    l.write("stdout", enc("one\n"));
    let stop!: () => void;
    const stopped = new Promise<void>((r) => (stop = r));
    const seen: string[] = [];
    const done = (async () => {
      for await (const e of readLogs(p, { stdout: true, stderr: true, follow: true, stopped })) {
        seen.push(e.log);
        if (seen.length === 1) {
          l.write("stdout", enc("two\n"));
          stop();
        }
      }
    })();
    await done;
    expect(seen).toEqual(["one\n", "two\n"]);
  });
});

describe("stdcopy framing", () => {
  test("frames round-trip through the demuxer across chunk boundaries", () => {
    const bytes = new Uint8Array([...frame(1, enc("hi\n")), ...frame(2, enc("err\n"))]);
    expect([...bytes.subarray(0, 8)]).toEqual([1, 0, 0, 0, 0, 0, 0, 3]);
    const got: string[] = [];
    const d = new Demuxer((s, p) => got.push(`${s}:${Buffer.from(p).toString()}`));
    for (const b of bytes) d.push(new Uint8Array([b]));
    expect(got).toEqual(["1:hi\n", "2:err\n"]);
  });
});
