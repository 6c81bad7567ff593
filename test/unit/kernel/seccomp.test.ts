// The seccomp compiler: the generated syscall table against the kernel's own
// headers and known numbers, the compiled default profile run through a BPF
// interpreter on every architecture we ship, and real programs loaded into
// the kernel in a child process.
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { compileFilter, syscallNumber, type SeccompFilter } from "../../../src/kernel/seccomp/compile.ts";
import { MAX_INSNS } from "../../../src/kernel/seccomp/bpf.ts";
import { defaultProfile, resolveProfile, seccompProgram } from "../../../src/engine/security/seccomp-profile.ts";
import { DEFAULT_CAPS } from "../../../src/engine/containers/spec.ts";
import { runBpf } from "./bpf-emulator.ts";

const ALLOW = 0x7fff0000, KILL_PROCESS = 0x80000000;
const errnoRet = (e: number) => 0x00050000 | e;
const EPERM = 1, ENOSYS = 38;
const AUDIT = { x86_64: 0xc000003e, x86: 0x40000003, aarch64: 0xc00000b7, arm: 0x40000028 } as const;
const NATIVE = { x86_64: "x64", x86: "ia32", aarch64: "arm64", arm: "arm" } as const;
type A = keyof typeof AUDIT;

function headerNumbers(path: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const [, name, n] of readFileSync(path, "utf8").matchAll(/^#define __NR_(\w+)\s+(\d+)$/gm)) m.set(name!, Number(n));
  return m;
}

describe("syscall table", () => {
  for (const [arch, file] of [["x86_64", "unistd_64.h"], ["x86", "unistd_32.h"]] as const) {
    const path = join("/usr/include/x86_64-linux-gnu/asm", file);
    test.skipIf(!existsSync(path))(`${arch} agrees with the kernel's ${file}`, () => {
      const h = headerNumbers(path);
      expect(h.size).toBeGreaterThan(300);
      const wrong = [...h].filter(([name, n]) => syscallNumber(name, arch) !== undefined && syscallNumber(name, arch) !== n);
      expect(wrong).toEqual([]);
      const missing = [...h.keys()].filter((name) => syscallNumber(name, arch) === undefined);
      expect(missing.length).toBeLessThan(5);
    });
  }
  test("aarch64 and arm: numbers from the kernel's tables", () => {
    const known: [string, A, number][] = [
      ["openat", "aarch64", 56], ["clone", "aarch64", 220], ["unshare", "aarch64", 97], ["keyctl", "aarch64", 219],
      ["add_key", "aarch64", 217], ["execve", "aarch64", 221], ["perf_event_open", "aarch64", 241], ["clone3", "aarch64", 435],
      ["openat", "arm", 322], ["clone", "arm", 120], ["unshare", "arm", 337], ["keyctl", "arm", 311], ["add_key", "arm", 309],
      ["perf_event_open", "arm", 364], ["execve", "arm", 11], ["breakpoint", "arm", 0xf0001],
    ];
    expect(known.map(([n, a]) => syscallNumber(n, a))).toEqual(known.map(([, , nr]) => nr));
    expect(syscallNumber("open", "aarch64")).toBeUndefined();
    expect(syscallNumber("toString", "x86_64")).toBeUndefined();
  });
});

function program(arch: A, caps: readonly string[] = DEFAULT_CAPS): Uint8Array {
  return Buffer.from(seccompProgram(undefined, caps, NATIVE[arch])!, "base64");
}
const call = (p: Uint8Array, arch: A, name: string, args: (number | bigint)[] = [], on: A = arch) =>
  runBpf(p, { nr: syscallNumber(name, on)!, arch: AUDIT[on], args });

describe("Docker's default profile, compiled", () => {
  for (const arch of Object.keys(AUDIT) as A[]) {
    test(`${arch}: what Docker blocks is blocked, what it allows is allowed`, () => {
      const p = program(arch);
      expect(p.length / 8).toBeLessThan(MAX_INSNS);
      for (const n of ["unshare", "keyctl", "add_key", "request_key", "perf_event_open", "mount", "setns", "bpf", "init_module", "kexec_load", "ptrace_attach_nonexistent"].filter((n) => syscallNumber(n, arch) !== undefined)) {
        expect([n, call(p, arch, n)]).toEqual([n, errnoRet(EPERM)]);
      }
      const plain = defaultProfile.syscalls!.find((s) => s.names!.length > 300)!.names!;
      const allowed = plain.filter((n) => syscallNumber(n, arch) !== undefined);
      expect(allowed.length).toBeGreaterThan(250);
      expect(allowed.filter((n) => call(p, arch, n) !== ALLOW)).toEqual([]);
      // clone: threads and forks yes, new namespaces no (CLONE_NEWUSER = 0x10000000)
      expect(call(p, arch, "clone", [0x11])).toBe(ALLOW);
      expect(call(p, arch, "clone", [0x10000011])).toBe(errnoRet(EPERM));
      expect(call(p, arch, "clone3")).toBe(errnoRet(ENOSYS));
      // personality: only Docker's five values
      expect([0, 8, 0x20000, 0x20008, 0xffffffff].map((v) => call(p, arch, "personality", [v]))).toEqual(Array(5).fill(ALLOW));
      expect(call(p, arch, "personality", [0x0400000])).toBe(errnoRet(EPERM));
      if (syscallNumber("socket", arch) !== undefined) {
        expect([2, 10, 37, 39, 41].map((d) => call(p, arch, "socket", [d]))).toEqual(Array(5).fill(ALLOW));
        expect([38, 40].map((d) => call(p, arch, "socket", [d]))).toEqual([errnoRet(EPERM), errnoRet(EPERM)]);
      }
      // beyond every number the profile names: ENOSYS, so libc falls back
      expect(runBpf(p, { nr: 0x100000, arch: AUDIT[arch] })).toBe(errnoRet(ENOSYS));
      // an architecture not in the profile: killed
      expect(runBpf(p, { nr: 0, arch: 0xc0000016 })).toBe(KILL_PROCESS);
    });
  }
  test("x86_64 filters i386 calls by their own numbers; x32 gets ENOSYS", () => {
    const p = program("x86_64");
    expect(call(p, "x86_64", "unshare", [], "x86")).toBe(errnoRet(EPERM));
    expect(call(p, "x86_64", "read", [], "x86")).toBe(ALLOW);
    expect(call(p, "x86_64", "socketcall", [], "x86")).toBe(ALLOW);
    expect(runBpf(p, { nr: 0x40000000 | 0, arch: AUDIT.x86_64 })).toBe(errnoRet(ENOSYS));
  });
  test("aarch64 filters arm calls", () => {
    const p = program("aarch64");
    expect(call(p, "aarch64", "unshare", [], "arm")).toBe(errnoRet(EPERM));
    expect(call(p, "aarch64", "breakpoint", [], "arm")).toBe(ALLOW);
  });
  test("capabilities open what Docker's profile ties to them", () => {
    const p = program("x86_64", [...DEFAULT_CAPS, "CAP_SYS_ADMIN"]);
    expect(call(p, "x86_64", "unshare")).toBe(ALLOW);
    expect(call(p, "x86_64", "mount")).toBe(ALLOW);
    expect(call(p, "x86_64", "clone", [0x10000011])).toBe(ALLOW);
    expect(call(p, "x86_64", "clone3")).toBe(ALLOW);
    expect(call(p, "x86_64", "keyctl")).toBe(errnoRet(EPERM));
    const q = program("x86_64", [...DEFAULT_CAPS, "CAP_SYS_PTRACE"]);
    expect(call(q, "x86_64", "kcmp")).toBe(ALLOW);
    expect(call(program("x86_64"), "x86_64", "kcmp")).toBe(errnoRet(EPERM));
    expect(call(program("x86_64", DEFAULT_CAPS.filter((c) => c !== "CAP_SYS_CHROOT")), "x86_64", "chroot")).toBe(errnoRet(EPERM));
  });
});

describe("argument comparisons, 64-bit", () => {
  const big = 2 ** 33 + 5;
  const f = (op: string, value: number, valueTwo?: number): SeccompFilter => ({
    defaultAction: "SCMP_ACT_ALLOW",
    architectures: [],
    syscalls: [{ names: ["getpid"], action: "SCMP_ACT_ERRNO", errnoRet: 99, args: [{ index: 1, op: op as never, value, valueTwo }] }],
  });
  const hits = (filter: SeccompFilter, values: number[]) => {
    const p = compileFilter(filter, "SCMP_ARCH_X86_64");
    return values.map((v) => runBpf(p, { nr: 39, arch: AUDIT.x86_64, args: [0, BigInt(v)] }) === errnoRet(99));
  };
  const vs = [0, 5, big - 1, big, big + 1, 2 ** 34];
  test("EQ NE LT LE GE GT", () => {
    expect(hits(f("SCMP_CMP_EQ", big), vs)).toEqual(vs.map((v) => v === big));
    expect(hits(f("SCMP_CMP_NE", big), vs)).toEqual(vs.map((v) => v !== big));
    expect(hits(f("SCMP_CMP_LT", big), vs)).toEqual(vs.map((v) => v < big));
    expect(hits(f("SCMP_CMP_LE", big), vs)).toEqual(vs.map((v) => v <= big));
    expect(hits(f("SCMP_CMP_GE", big), vs)).toEqual(vs.map((v) => v >= big));
    expect(hits(f("SCMP_CMP_GT", big), vs)).toEqual(vs.map((v) => v > big));
  });
  test("MASKED_EQ compares (arg & value) with valueTwo", () => {
    expect(hits(f("SCMP_CMP_MASKED_EQ", 2 ** 33 + 1, 1), [1, 3, 2 ** 33 + 1, 2 ** 33, 0])).toEqual([true, true, false, false, false]);
  });
  test("a profile naming many syscalls with conditions still fits (far jumps relaxed)", () => {
    const names = Object.keys(defaultProfile.syscalls![0]!.names!).length ? defaultProfile.syscalls![0]!.names! : [];
    const filter: SeccompFilter = { defaultAction: "SCMP_ACT_ERRNO", architectures: [], syscalls: [{ names, action: "SCMP_ACT_ALLOW", args: [{ index: 2, op: "SCMP_CMP_NE", value: 7 }] }] };
    const p = compileFilter(filter, "SCMP_ARCH_X86_64");
    expect(runBpf(p, { nr: 0, arch: AUDIT.x86_64, args: [0, 0, 6] })).toBe(ALLOW);
    expect(runBpf(p, { nr: 0, arch: AUDIT.x86_64, args: [0, 0, 7] })).toBe(errnoRet(EPERM));
    expect(runBpf(p, { nr: syscallNumber("write", "x86_64")!, arch: AUDIT.x86_64, args: [0, 0, 7] })).toBe(errnoRet(EPERM));
  });
});

describe("resolving profiles", () => {
  test("unconfined is no filter; an empty profile is none either (moby)", () => {
    expect(seccompProgram("unconfined", DEFAULT_CAPS)).toBeNull();
    expect(resolveProfile({ defaultAction: "" }, DEFAULT_CAPS)).toBeNull();
  });
  test("bad profiles are refused with moby's words", () => {
    expect(() => seccompProgram("{nope", DEFAULT_CAPS)).toThrow(/Decoding seccomp profile failed/);
    expect(() => seccompProgram(JSON.stringify({ defaultAction: "SCMP_ACT_FOO" }), DEFAULT_CAPS)).toThrow(/SCMP_ACT_FOO is not a valid action/);
    expect(() => seccompProgram(JSON.stringify({ defaultAction: "SCMP_ACT_ALLOW", architectures: ["SCMP_ARCH_X86_64"], archMap: [{ architecture: "SCMP_ARCH_X86_64", subArchitectures: [] }] }), DEFAULT_CAPS)).toThrow(/both 'architectures' and 'archMap'/);
  });
});

const isLinuxX64OrArm = process.platform === "linux" && (process.arch === "x64" || process.arch === "arm64");
describe.skipIf(!isLinuxX64OrArm)("in the kernel", () => {
  const child = join(import.meta.dir, "seccomp-child.ts");
  const nr = (n: string) => syscallNumber(n, process.arch === "x64" ? "x86_64" : "aarch64")!;
  const runChild = (prog: Uint8Array, calls: [string, number?][]) => {
    const r = Bun.spawnSync([process.execPath, child, Buffer.from(prog).toString("base64"), calls.map(([n, a = 0]) => `${nr(n)},${a}`).join(";")]);
    if (r.exitCode !== 0) throw new Error(`child failed (${r.exitCode}): ${r.stderr.toString()}`);
    return JSON.parse(r.stdout.toString()) as number[];
  };
  test("a custom profile's errno reaches the caller; other calls go through", () => {
    const p = compileFilter({ defaultAction: "SCMP_ACT_ALLOW", architectures: [], syscalls: [{ names: ["getppid"], action: "SCMP_ACT_ERRNO", errnoRet: 42 }, { names: ["umask"], action: "SCMP_ACT_ERRNO", errnoRet: 7, args: [{ index: 0, op: "SCMP_CMP_EQ", value: 0o77 }] }] });
    const [ppid, um1, um2] = runChild(p, [["getppid"], ["umask", 0o22], ["umask", 0o77]]);
    expect([ppid, um2]).toEqual([-42, -7]);
    expect(um1).toBeGreaterThanOrEqual(0);
  });
  test("Docker's default profile: unshare and keyctl refused, getpid allowed", () => {
    const [u, k, pid] = runChild(program(process.arch === "x64" ? "x86_64" : "aarch64"), [["unshare", 0x10000000], ["keyctl", 0], ["getpid"]]);
    expect([u, k]).toEqual([-EPERM, -EPERM]);
    expect(pid).toBeGreaterThan(0);
  });
});
