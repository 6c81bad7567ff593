// A tiny classic-BPF assembler (the dialect seccomp filters are written in,
// linux/filter.h): loads of seccomp_data words, AND, conditional jumps to
// labels, returns. Conditional jumps carry 8-bit offsets, so a jump whose
// target lies further than 255 instructions away is relaxed into
// `jcc +0/+1; ja T; ja F` (ja takes a 32-bit offset); sizes are recomputed
// until no jump needs relaxing.

// linux/bpf_common.h
const BPF_LD_W_ABS = 0x00 | 0x00 | 0x20;
const BPF_ALU_AND_K = 0x04 | 0x50 | 0x00;
const BPF_JMP = 0x05;
const BPF_JA = BPF_JMP | 0x00;
const BPF_RET_K = 0x06;
const JOPS = { jeq: 0x10, jgt: 0x20, jge: 0x30, jset: 0x40 } as const;
export type JumpOp = keyof typeof JOPS;

/** BPF_MAXINSNS: the kernel refuses longer programs. */
export const MAX_INSNS = 4096;

export type Label = symbol;
/** A jump target: a label, or null for the next instruction. */
export type Target = Label | null;

type Item =
  | { t: "ld"; k: number }
  | { t: "and"; k: number }
  | { t: "ret"; k: number }
  | { t: "ja"; to: Label }
  | { t: "j"; op: JumpOp; k: number; jt: Target; jf: Target; long: boolean }
  | { t: "label"; l: Label };

export class Assembler {
  private readonly items: Item[] = [];

  label(name = "L"): Label {
    return Symbol(name);
  }
  /** Binds `l` to the next instruction emitted. */
  bind(l: Label): this {
    this.items.push({ t: "label", l });
    return this;
  }
  /** A = the 32-bit word at `offset` of struct seccomp_data. */
  ld(offset: number): this {
    this.items.push({ t: "ld", k: offset });
    return this;
  }
  and(k: number): this {
    this.items.push({ t: "and", k: k >>> 0 });
    return this;
  }
  ret(k: number): this {
    this.items.push({ t: "ret", k: k >>> 0 });
    return this;
  }
  ja(to: Label): this {
    this.items.push({ t: "ja", to });
    return this;
  }
  /** if (A <op> k) goto jt else goto jf (unsigned; jset = A & k). */
  jump(op: JumpOp, k: number, jt: Target, jf: Target): this {
    this.items.push({ t: "j", op, k: k >>> 0, jt, jf, long: false });
    return this;
  }

  /** The program as struct sock_filter[] (8 bytes each, host byte order = little-endian on our targets). */
  assemble(): Uint8Array {
    const pos = this.layout();
    const size = (it: Item) => (it.t === "label" ? 0 : it.t === "j" && it.long ? 3 : 1);
    const total = this.items.reduce((n, it) => n + size(it), 0);
    if (total > MAX_INSNS) throw new Error(`seccomp filter too long: ${total} instructions (the kernel takes ${MAX_INSNS})`);
    const out = new DataView(new ArrayBuffer(total * 8));
    let pc = 0;
    const put = (code: number, jt: number, jf: number, k: number) => {
      out.setUint16(pc * 8, code, true);
      out.setUint8(pc * 8 + 2, jt);
      out.setUint8(pc * 8 + 3, jf);
      out.setUint32(pc * 8 + 4, k >>> 0, true);
      pc++;
    };
    for (const it of this.items) {
      if (it.t === "label") continue;
      if (it.t === "ld") put(BPF_LD_W_ABS, 0, 0, it.k);
      else if (it.t === "and") put(BPF_ALU_AND_K, 0, 0, it.k);
      else if (it.t === "ret") put(BPF_RET_K, 0, 0, it.k);
      else if (it.t === "ja") put(BPF_JA, 0, 0, pos.get(it.to)! - (pc + 1));
      else if (!it.long) {
        const next = pc + 1;
        put(BPF_JMP | JOPS[it.op], this.target(it.jt, next, pos) - next, this.target(it.jf, next, pos) - next, it.k);
      } else {
        const after = pc + 3;
        put(BPF_JMP | JOPS[it.op], 0, 1, it.k);
        put(BPF_JA, 0, 0, this.target(it.jt, after, pos) - (pc + 1));
        put(BPF_JA, 0, 0, this.target(it.jf, after, pos) - (pc + 1));
      }
    }
    return new Uint8Array(out.buffer);
  }

  private target(t: Target, next: number, pos: Map<Label, number>): number {
    if (t === null) return next;
    const p = pos.get(t);
    if (p === undefined) throw new Error(`unbound label ${t.description}`);
    if (p < next) throw new Error(`backward jump to ${t.description}: BPF jumps only forward`);
    return p;
  }

  /** Label positions, relaxing conditional jumps that cannot reach their targets. */
  private layout(): Map<Label, number> {
    for (;;) {
      const pos = new Map<Label, number>();
      let pc = 0;
      for (const it of this.items) {
        if (it.t === "label") pos.set(it.l, pc);
        else pc += it.t === "j" && it.long ? 3 : 1;
      }
      let changed = false;
      pc = 0;
      for (const it of this.items) {
        if (it.t === "label") continue;
        if (it.t === "j" && !it.long) {
          const far = (t: Target) => t !== null && (pos.get(t) ?? Infinity) - (pc + 1) > 255;
          if (far(it.jt) || far(it.jf)) {
            it.long = true;
            changed = true;
          }
        }
        pc += it.t === "j" && it.long ? 3 : 1;
      }
      if (!changed) return pos;
    }
  }
}
