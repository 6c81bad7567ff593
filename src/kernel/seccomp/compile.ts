// A resolved seccomp filter (the OCI runtime-spec's LinuxSeccomp: what is
// left of a Docker profile once includes/excludes are applied) compiled to a
// classic-BPF program for seccomp(2), the way runc + libseccomp would build it:
//
//   - the architecture word is checked first; an architecture the filter does
//     not list is killed (libseccomp's default bad-arch action);
//   - syscalls are found by a binary search over their numbers (jge) ending in
//     short linear runs (jeq), so a call costs ~10 comparisons, not hundreds;
//   - several rules for one syscall are OR-ed, the conditions of one rule
//     AND-ed; conditional rules are tried before an unconditional one;
//   - argument comparisons are unsigned and 64-bit on 64-bit architectures
//     (high word, then low), 32-bit on 32-bit ones;
//   - a syscall number above every number the profile names gets ENOSYS
//     instead of the default action (runc's patchbpf stub), so libc falls
//     back from syscalls newer than the profile (clone3, faccessat2, …);
//   - x32 calls (x86_64 numbers with bit 30 set) get ENOSYS: we keep no x32
//     table, and ENOSYS is what a kernel without x32 answers.
import { Assembler, type Label } from "./bpf.ts";
import { SYSCALL_NUMBERS, TABLE_ARCHES, type TableArch } from "./syscall-table.ts";

export type SeccompAction =
  | "SCMP_ACT_KILL"
  | "SCMP_ACT_KILL_THREAD"
  | "SCMP_ACT_KILL_PROCESS"
  | "SCMP_ACT_TRAP"
  | "SCMP_ACT_ERRNO"
  | "SCMP_ACT_TRACE"
  | "SCMP_ACT_ALLOW"
  | "SCMP_ACT_LOG";

export type SeccompOp = "SCMP_CMP_NE" | "SCMP_CMP_LT" | "SCMP_CMP_LE" | "SCMP_CMP_EQ" | "SCMP_CMP_GE" | "SCMP_CMP_GT" | "SCMP_CMP_MASKED_EQ";

export interface SeccompArg {
  index: number;
  value: number;
  /** MASKED_EQ: (arg & value) == valueTwo. */
  valueTwo?: number;
  op: SeccompOp;
}

export interface SeccompRule {
  names: string[];
  action: SeccompAction;
  errnoRet?: number;
  args?: SeccompArg[] | null;
}

export interface SeccompFilter {
  defaultAction: SeccompAction;
  defaultErrnoRet?: number;
  /** SCMP_ARCH_* names; the native one is always included (libseccomp does the same). */
  architectures: string[];
  syscalls: SeccompRule[];
}

export class SeccompError extends Error {
  override name = "SeccompError";
}

// linux/seccomp.h return values
const RET = {
  KILL_PROCESS: 0x80000000,
  KILL_THREAD: 0x00000000,
  TRAP: 0x00030000,
  ERRNO: 0x00050000,
  TRACE: 0x7ff00000,
  LOG: 0x7ffc0000,
  ALLOW: 0x7fff0000,
};
const EPERM = 1;
const ENOSYS = 38;
const X32_BIT = 0x40000000;

/** linux/audit.h AUDIT_ARCH_* for the architectures we keep tables for. */
const ARCHES: Record<string, { audit: number; table: TableArch; bits: 32 | 64 }> = {
  SCMP_ARCH_X86_64: { audit: 0xc000003e, table: "x86_64", bits: 64 },
  SCMP_ARCH_X86: { audit: 0x40000003, table: "x86", bits: 32 },
  SCMP_ARCH_AARCH64: { audit: 0xc00000b7, table: "aarch64", bits: 64 },
  SCMP_ARCH_ARM: { audit: 0x40000028, table: "arm", bits: 32 },
};

/** Every SCMP_ARCH_* name Docker's profiles use; those without a table here are accepted and skipped. */
export const KNOWN_ARCHES = new Set([
  ...Object.keys(ARCHES), "SCMP_ARCH_X32", "SCMP_ARCH_MIPS", "SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPS64", "SCMP_ARCH_MIPSEL64",
  "SCMP_ARCH_MIPS64N32", "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC", "SCMP_ARCH_PPC64", "SCMP_ARCH_PPC64LE", "SCMP_ARCH_S390",
  "SCMP_ARCH_S390X", "SCMP_ARCH_PARISC", "SCMP_ARCH_PARISC64", "SCMP_ARCH_RISCV64", "SCMP_ARCH_LOONGARCH64",
]);

/** The SCMP_ARCH_* of a Node/Bun `process.arch`. */
export function nativeScmpArch(arch: string = process.arch): string {
  const a = ({ x64: "SCMP_ARCH_X86_64", arm64: "SCMP_ARCH_AARCH64", arm: "SCMP_ARCH_ARM", ia32: "SCMP_ARCH_X86" } as Record<string, string>)[arch];
  if (!a) throw new SeccompError(`seccomp: no syscall table for architecture ${arch}`);
  return a;
}

/** The syscall's number on `arch`, or undefined where it has none. */
export function syscallNumber(name: string, arch: TableArch): number | undefined {
  if (!Object.hasOwn(SYSCALL_NUMBERS, name)) return undefined;
  const n = SYSCALL_NUMBERS[name]![TABLE_ARCHES.indexOf(arch)]!;
  return n < 0 ? undefined : n;
}

/** The syscall's number on this machine (`process.arch`), or undefined where it has none. */
export function nativeSyscallNumber(name: string): number | undefined {
  return syscallNumber(name, ARCHES[nativeScmpArch()]!.table);
}

export function actionValue(action: SeccompAction, errnoRet: number | undefined): number {
  switch (action) {
    case "SCMP_ACT_KILL":
    case "SCMP_ACT_KILL_THREAD":
      return RET.KILL_THREAD;
    case "SCMP_ACT_KILL_PROCESS":
      return RET.KILL_PROCESS;
    case "SCMP_ACT_TRAP":
      return RET.TRAP;
    case "SCMP_ACT_ERRNO":
      return RET.ERRNO | ((errnoRet ?? EPERM) & 0xffff);
    case "SCMP_ACT_TRACE":
      return RET.TRACE | ((errnoRet ?? EPERM) & 0xffff);
    case "SCMP_ACT_ALLOW":
      return RET.ALLOW;
    case "SCMP_ACT_LOG":
      return RET.LOG;
    default:
      throw new SeccompError(`seccomp: unsupported action ${String(action)}`);
  }
}

/** One way a syscall can go: a return value, guarded by AND-ed conditions (none = always). */
interface Outcome {
  ret: number;
  args: SeccompArg[];
}
interface Entry {
  nr: number;
  outcomes: Outcome[];
}

/** The filter for one architecture: syscall number → its outcomes, conditional ones first. */
function entriesFor(f: SeccompFilter, table: TableArch, bits: 32 | 64): Entry[] {
  const by = new Map<number, { cond: Outcome[]; plain: Outcome | null }>();
  for (const rule of f.syscalls) {
    const ret = actionValue(rule.action, rule.errnoRet);
    const args = rule.args ?? [];
    for (const a of args) checkArg(a, bits);
    for (const name of rule.names) {
      const nr = syscallNumber(name, table);
      // runc ignores names an architecture lacks (libseccomp cannot resolve them).
      if (nr === undefined) continue;
      const e = by.get(nr) ?? { cond: [], plain: null };
      by.set(nr, e);
      if (args.length) e.cond.push({ ret, args });
      else e.plain ??= { ret, args };
    }
  }
  return [...by.entries()]
    .sort(([a], [b]) => a - b)
    .map(([nr, e]) => ({ nr, outcomes: e.plain ? [...e.cond, e.plain] : e.cond }));
}

function checkArg(a: SeccompArg, bits: 32 | 64): void {
  if (!Number.isInteger(a.index) || a.index < 0 || a.index > 5) throw new SeccompError(`seccomp: argument index ${a.index} out of range (0-5)`);
  for (const v of [a.value, a.valueTwo ?? 0]) {
    if (!Number.isSafeInteger(v) || v < 0) throw new SeccompError(`seccomp: argument value ${v} is not an unsigned integer`);
    if (bits === 32 && v > 0xffffffff) throw new SeccompError(`seccomp: argument value ${v} does not fit a 32-bit architecture`);
  }
}

const hi = (v: number) => Math.floor(v / 2 ** 32) >>> 0;
const lo = (v: number) => v >>> 0;
/** struct seccomp_data: nr @0, arch @4, instruction_pointer @8, args[6] @16 (little-endian u64s). */
const argLo = (i: number) => 16 + 8 * i;
const argHi = (i: number) => 16 + 8 * i + 4;

/** Emits a test of one argument condition: falls through when it holds, jumps to `fail` when not. */
function emitCondition(as: Assembler, a: SeccompArg, bits: 32 | 64, fail: Label): void {
  const v = a.value;
  const pass = as.label("pass");
  const wide = bits === 64;
  switch (a.op) {
    case "SCMP_CMP_EQ":
      if (wide) as.ld(argHi(a.index)).jump("jeq", hi(v), null, fail);
      as.ld(argLo(a.index)).jump("jeq", lo(v), null, fail);
      break;
    case "SCMP_CMP_NE":
      if (wide) as.ld(argHi(a.index)).jump("jeq", hi(v), null, pass);
      as.ld(argLo(a.index)).jump("jeq", lo(v), fail, null);
      break;
    case "SCMP_CMP_GT":
    case "SCMP_CMP_GE": {
      const low = as.label("low");
      if (wide) as.ld(argHi(a.index)).jump("jgt", hi(v), pass, null).jump("jeq", hi(v), low, fail).bind(low);
      as.ld(argLo(a.index)).jump(a.op === "SCMP_CMP_GT" ? "jgt" : "jge", lo(v), null, fail);
      break;
    }
    case "SCMP_CMP_LT":
    case "SCMP_CMP_LE": {
      const low = as.label("low");
      if (wide) as.ld(argHi(a.index)).jump("jgt", hi(v), fail, null).jump("jeq", hi(v), low, pass).bind(low);
      // arg < v  ⇔  !(arg >= v);  arg <= v  ⇔  !(arg > v)
      as.ld(argLo(a.index)).jump(a.op === "SCMP_CMP_LT" ? "jge" : "jgt", lo(v), fail, null);
      break;
    }
    case "SCMP_CMP_MASKED_EQ": {
      const want = a.valueTwo ?? 0;
      if (wide) as.ld(argHi(a.index)).and(hi(v)).jump("jeq", hi(want), null, fail);
      as.ld(argLo(a.index)).and(lo(v)).jump("jeq", lo(want), null, fail);
      break;
    }
    default:
      throw new SeccompError(`seccomp: unsupported comparison ${String(a.op)}`);
  }
  as.bind(pass);
}

/** A syscall's block: each outcome in turn, the default when none applies. */
function emitEntry(as: Assembler, e: Entry, bits: 32 | 64, dflt: number): void {
  for (const o of e.outcomes) {
    if (!o.args.length) {
      as.ret(o.ret);
      return;
    }
    const next = as.label("next-rule");
    for (const a of o.args) emitCondition(as, a, bits, next);
    as.ret(o.ret);
    as.bind(next);
  }
  as.ret(dflt);
}

const LEAF = 6;

/**
 * Binary search over entries (A holds the syscall number throughout). A leaf
 * is a short jeq run; outcomes shared by several syscalls of a leaf (plain
 * ALLOW, mostly) share one return. `miss` is emitted where nothing matched.
 */
function emitTree(as: Assembler, es: Entry[], bits: 32 | 64, dflt: number, miss: () => void): void {
  if (es.length > LEAF) {
    const mid = Math.floor(es.length / 2);
    const right = as.label("right");
    as.jump("jge", es[mid]!.nr, right, null);
    emitTree(as, es.slice(0, mid), bits, dflt, () => as.ret(dflt));
    as.bind(right);
    emitTree(as, es.slice(mid), bits, dflt, miss);
    return;
  }
  const shared = new Map<string, Label>();
  const blocks: [Label, Entry][] = [];
  for (const e of es) {
    const plain = e.outcomes.length === 1 && !e.outcomes[0]!.args.length;
    const key = plain ? `ret:${e.outcomes[0]!.ret}` : `nr:${e.nr}`;
    let l = shared.get(key);
    if (!l) {
      l = as.label(key);
      shared.set(key, l);
      blocks.push([l, e]);
    }
    as.jump("jeq", e.nr, l, null);
  }
  miss();
  for (const [l, e] of blocks) {
    as.bind(l);
    emitEntry(as, e, bits, dflt);
  }
}

/** Compiles `f` for a machine whose native architecture is `native` (an SCMP_ARCH_* name). */
export function compileFilter(f: SeccompFilter, native = nativeScmpArch()): Uint8Array {
  if (!ARCHES[native]) throw new SeccompError(`seccomp: no syscall table for ${native}`);
  for (const a of f.architectures) if (!KNOWN_ARCHES.has(a)) throw new SeccompError(`seccomp: unknown architecture ${a}`);
  const dflt = actionValue(f.defaultAction, f.defaultErrnoRet);
  // runc's stub only where an unknown syscall would otherwise be refused.
  const enosys = f.defaultAction !== "SCMP_ACT_ALLOW" && f.defaultAction !== "SCMP_ACT_LOG";
  const arches = [native, ...f.architectures.filter((a) => a !== native && ARCHES[a])];
  const as = new Assembler();
  const sections = arches.map((a) => [a, as.label(a)] as const);
  as.ld(4);
  for (const [a, l] of sections) as.jump("jeq", ARCHES[a]!.audit, l, null);
  as.ret(RET.KILL_PROCESS);
  for (const [a, l] of sections) {
    const { table, bits } = ARCHES[a]!;
    const es = entriesFor(f, table, bits);
    const max = es.length ? es[es.length - 1]!.nr : -1;
    as.bind(l).ld(0);
    if (table === "x86_64") {
      const native64 = as.label("not-x32");
      as.jump("jset", X32_BIT, null, native64).ret(RET.ERRNO | ENOSYS).bind(native64);
    }
    const miss = () => {
      if (enosys && max >= 0) {
        const known = as.label("known");
        as.jump("jgt", max, null, known).ret(RET.ERRNO | ENOSYS).bind(known);
      }
      as.ret(dflt);
    };
    if (es.length) emitTree(as, es, bits, dflt, miss);
    else miss();
  }
  return as.assemble();
}
