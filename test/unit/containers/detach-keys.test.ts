import { describe, expect, test } from "bun:test";
import { DetachWatcher, parseDetachKeys } from "../../../src/engine/containers/detach-keys.ts";

const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

describe("detach keys (moby's term.ToBytes and EscapeProxy)", () => {
  test("specs: ctrl-<c> for letters and @[\\]^_, single characters, commas between", () => {
    expect([...parseDetachKeys("ctrl-p,ctrl-q")!]).toEqual([16, 17]);
    expect([...parseDetachKeys("ctrl-@,ctrl-[,ctrl-\\,ctrl-],ctrl-^,ctrl-_")!]).toEqual([0, 27, 28, 29, 30, 31]);
    expect([...parseDetachKeys("a,ctrl-A,z")!]).toEqual([97, 1, 122]);
    for (const bad of ["ctrl-xx", "ctrl-", "ab", "ctrl-1", ""]) expect(parseDetachKeys(bad)).toBeNull();
  });

  test("the sequence is swallowed and ends the stream; partial matches pass through, also across chunks", () => {
    const w = new DetachWatcher(parseDetachKeys("ctrl-p,ctrl-q")!);
    expect(text(w.feed(bytes("ab\x10c")))).toBe("ab\x10c");
    expect(text(w.feed(bytes("x\x10")))).toBe("x"); // held: may be the start
    expect(w.detached).toBe(false);
    expect(text(w.feed(bytes("\x10")))).toBe("\x10"); // the first one was input; the second may start it
    expect(text(w.feed(bytes("\x11after")))).toBe("");
    expect(w.detached).toBe(true);
    expect(text(w.feed(bytes("more")))).toBe("");
  });
});
