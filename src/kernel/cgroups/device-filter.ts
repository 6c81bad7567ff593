// Device access on cgroup v2: the same allow list as v1's devices.allow,
// compiled to an eBPF program of type BPF_PROG_TYPE_CGROUP_DEVICE
// (Documentation/bpf/prog_cgroup_device.rst; runc's devicefilter does the
// same) and attached to the container's cgroup. The program sees
// struct bpf_cgroup_dev_ctx { u32 access_type; u32 major; u32 minor; } with
// access_type = (access << 16) | type, and answers 1 (allow) or 0 (deny).
// Rules are tried in order; the first that covers the request allows it.

/** One devices.allow line: "c 1:3 rwm", "b *:* m", "a". */
export interface DeviceRule {
  type: "a" | "b" | "c";
  major: number | "*";
  minor: number | "*";
  /** Bits of BPF_DEVCG_ACC_*: mknod 1, read 2, write 4. */
  access: number;
}

const DEV_BLOCK = 1, DEV_CHAR = 2;
const ACC = { m: 1, r: 2, w: 4 } as const;

export function parseDeviceRule(s: string): DeviceRule {
  const m = /^([abc])(?: (\*|\d+):(\*|\d+)(?: ([rwm]+))?)?$/.exec(s.trim());
  if (!m) throw new Error(`bad device rule ${JSON.stringify(s)}`);
  const num = (v: string | undefined) => (v === undefined || v === "*" ? "*" : Number(v));
  const access = m[4] ? [...m[4]].reduce((a, c) => a | ACC[c as keyof typeof ACC], 0) : 7;
  return { type: m[1] as DeviceRule["type"], major: num(m[2]), minor: num(m[3]), access };
}

// eBPF opcodes (linux/bpf.h, bpf_common.h)
const LDX_MEM_W = 0x61;
const MOV64_X = 0xbf;
const MOV64_K = 0xb7;
const AND64_K = 0x57;
const RSH64_K = 0x77;
const JNE_K = 0x55;
const EXIT = 0x95;

type Insn = [code: number, dst: number, src: number, off: number, imm: number];

/** The program as struct bpf_insn[] (8 bytes each; registers in one byte, dst in the low nibble). */
export function compileDeviceFilter(rules: DeviceRule[]): Uint8Array {
  const prog: Insn[] = [
    [LDX_MEM_W, 2, 1, 0, 0], // r2 = access_type
    [MOV64_X, 3, 2, 0, 0],
    [AND64_K, 3, 0, 0, 0xffff], // r3 = type
    [MOV64_X, 4, 2, 0, 0],
    [RSH64_K, 4, 0, 0, 16], // r4 = access
    [LDX_MEM_W, 5, 1, 4, 0], // r5 = major
    [LDX_MEM_W, 6, 1, 8, 0], // r6 = minor
  ];
  for (const r of rules) {
    // Each check jumps past the rest of this rule's block when it fails.
    const checks: Insn[][] = [];
    if (r.type !== "a") checks.push([[JNE_K, 3, 0, 0, r.type === "b" ? DEV_BLOCK : DEV_CHAR]]);
    if (r.access !== 7) checks.push([[MOV64_X, 7, 4, 0, 0], [AND64_K, 7, 0, 0, ~r.access & 7], [JNE_K, 7, 0, 0, 0]]);
    if (r.major !== "*") checks.push([[JNE_K, 5, 0, 0, r.major]]);
    if (r.minor !== "*") checks.push([[JNE_K, 6, 0, 0, r.minor]]);
    const block = checks.flat();
    block.push([MOV64_K, 0, 0, 0, 1], [EXIT, 0, 0, 0, 0]);
    block.forEach((insn, i) => {
      if (insn[0] === JNE_K) insn[3] = block.length - i - 1;
    });
    prog.push(...block);
  }
  prog.push([MOV64_K, 0, 0, 0, 0], [EXIT, 0, 0, 0, 0]);
  const out = new DataView(new ArrayBuffer(prog.length * 8));
  prog.forEach(([code, dst, src, off, imm], i) => {
    out.setUint8(i * 8, code);
    out.setUint8(i * 8 + 1, (src << 4) | dst);
    out.setInt16(i * 8 + 2, off, true);
    out.setInt32(i * 8 + 4, imm, true);
  });
  return new Uint8Array(out.buffer);
}
