// A classic-BPF interpreter for the instructions our seccomp compiler emits
// (ld abs, and, jeq/jgt/jge/jset, ja, ret), run over a struct seccomp_data.
// Lets unit tests ask "what would the kernel answer for this call" on every
// architecture, not only the one the tests run on.
export interface SeccompData {
  nr: number;
  arch: number;
  /** Up to six 64-bit arguments. */
  args?: (number | bigint)[];
}

function dataBytes(d: SeccompData): DataView {
  const v = new DataView(new ArrayBuffer(64));
  v.setUint32(0, d.nr >>> 0, true);
  v.setUint32(4, d.arch >>> 0, true);
  (d.args ?? []).forEach((a, i) => v.setBigUint64(16 + 8 * i, BigInt(a), true));
  return v;
}

export function runBpf(prog: Uint8Array, d: SeccompData): number {
  const p = new DataView(prog.buffer, prog.byteOffset, prog.byteLength);
  const data = dataBytes(d);
  const n = prog.byteLength / 8;
  let A = 0;
  for (let pc = 0; pc < n; ) {
    const code = p.getUint16(pc * 8, true), jt = p.getUint8(pc * 8 + 2), jf = p.getUint8(pc * 8 + 3), k = p.getUint32(pc * 8 + 4, true);
    pc++;
    switch (code) {
      case 0x20:
        if (k % 4 || k > 60) throw new Error(`bad load offset ${k}`);
        A = data.getUint32(k, true);
        break;
      case 0x54:
        A = (A & k) >>> 0;
        break;
      case 0x06:
        return k >>> 0;
      case 0x05:
        pc += k;
        break;
      case 0x15:
        pc += A === k ? jt : jf;
        break;
      case 0x25:
        pc += A > k ? jt : jf;
        break;
      case 0x35:
        pc += A >= k ? jt : jf;
        break;
      case 0x45:
        pc += (A & k) !== 0 ? jt : jf;
        break;
      default:
        throw new Error(`unexpected opcode 0x${code.toString(16)} at ${pc - 1}`);
    }
  }
  throw new Error("fell off the end of the program");
}
