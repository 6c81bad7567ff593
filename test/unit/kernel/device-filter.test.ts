// The cgroup v2 device program, run through a small eBPF interpreter (only
// the opcodes the compiler emits): it must answer exactly what v1's
// devices.allow list answers. The kernel-side test is in
// test/integration/security/devices-v2.test.ts.
import { describe, expect, test } from "bun:test";
import { compileDeviceFilter, parseDeviceRule, type DeviceRule } from "../../../src/kernel/cgroups/device-filter.ts";
import { DEFAULT_DEVICE_RULES } from "../../../src/kernel/cgroups/v1.ts";

function runEbpf(prog: Uint8Array, ctx: [number, number, number]): number {
  const v = new DataView(prog.buffer, prog.byteOffset, prog.byteLength);
  const r = new Array<bigint>(11).fill(0n);
  const mem = (off: number) => BigInt(ctx[off / 4]!);
  for (let pc = 0; pc < prog.length / 8; pc++) {
    const code = v.getUint8(pc * 8), regs = v.getUint8(pc * 8 + 1), off = v.getInt16(pc * 8 + 2, true), imm = BigInt(v.getInt32(pc * 8 + 4, true));
    const dst = regs & 15, src = regs >> 4;
    const u = (x: bigint) => BigInt.asUintN(64, x);
    switch (code) {
      case 0x61: r[dst] = mem(off); break;
      case 0xbf: r[dst] = r[src]!; break;
      case 0xb7: r[dst] = u(imm); break;
      case 0x57: r[dst] = r[dst]! & u(imm); break;
      case 0x77: r[dst] = r[dst]! >> imm; break;
      case 0x55: if (r[dst] !== u(imm)) pc += off; break;
      case 0x95: return Number(r[0]);
      default: throw new Error(`opcode 0x${code.toString(16)}`);
    }
  }
  throw new Error("fell off the end");
}

const TYPE = { b: 1, c: 2 } as const;
const ACC = { m: 1, r: 2, w: 4 } as const;
/** What devices.allow semantics say: some rule covers type, numbers and every access bit asked for. */
function reference(rules: DeviceRule[], type: "b" | "c", major: number, minor: number, access: number): number {
  return rules.some((r) => (r.type === "a" || r.type === type) && (r.major === "*" || r.major === major) && (r.minor === "*" || r.minor === minor) && (access & ~r.access) === 0) ? 1 : 0;
}

describe("cgroup v2 device program", () => {
  const rules = DEFAULT_DEVICE_RULES.map(parseDeviceRule);
  const prog = compileDeviceFilter(rules);
  const ask = (type: "b" | "c", major: number, minor: number, acc: string) => {
    const access = [...acc].reduce((a, c) => a | ACC[c as keyof typeof ACC], 0);
    return runEbpf(prog, [(access << 16) | TYPE[type], major, minor]);
  };
  test("Docker's allow list: the standard char devices open, host disks only mknod", () => {
    expect([ask("c", 1, 3, "rw"), ask("c", 1, 9, "r"), ask("c", 5, 2, "rw"), ask("c", 136, 7, "rw"), ask("c", 10, 200, "rw")]).toEqual([1, 1, 1, 1, 1]);
    expect([ask("b", 254, 0, "m"), ask("c", 4, 1, "m")]).toEqual([1, 1]);
    expect([ask("b", 254, 0, "r"), ask("b", 7, 0, "rw"), ask("c", 1, 11, "r"), ask("c", 10, 232, "rw"), ask("c", 1, 1, "r")]).toEqual([0, 0, 0, 0, 0]);
  });
  test("agrees with the devices.allow semantics everywhere we look", () => {
    const odd = [parseDeviceRule("a *:* r"), parseDeviceRule("b 8:* rw"), parseDeviceRule("c 4:2")];
    for (const set of [rules, odd, []]) {
      const p = compileDeviceFilter(set);
      for (const type of ["b", "c"] as const)
        for (const major of [1, 4, 5, 7, 8, 10, 136, 254])
          for (const minor of [0, 1, 2, 3, 9, 200])
            for (let access = 1; access < 8; access++)
              expect([type, major, minor, access, runEbpf(p, [(access << 16) | TYPE[type], major, minor])]).toEqual([type, major, minor, access, reference(set, type, major, minor, access)]);
    }
  });
  test("rules parse as devices.allow lines", () => {
    expect(parseDeviceRule("c 1:3 rwm")).toEqual({ type: "c", major: 1, minor: 3, access: 7 });
    expect(parseDeviceRule("b *:* m")).toEqual({ type: "b", major: "*", minor: "*", access: 1 });
    expect(parseDeviceRule("a")).toEqual({ type: "a", major: "*", minor: "*", access: 7 });
    expect(() => parseDeviceRule("x 1:2 r")).toThrow();
  });
});
