// bpf(2) over bun:ffi: load a BPF_PROG_TYPE_CGROUP_DEVICE program and attach
// it to a cgroup v2 directory (BPF_PROG_ATTACH, BPF_CGROUP_DEVICE). The
// attachment holds the program; our fd is closed once attached, and the
// program goes away with the cgroup.
import { closeSync, openSync } from "node:fs";
import { ptr } from "bun:ffi";
import { check, cstr, errno, libc, SyscallError } from "./libc.ts";
import { nativeSyscallNumber } from "./seccomp/compile.ts";

const BPF_PROG_LOAD = 5;
const BPF_PROG_ATTACH = 8;
const BPF_PROG_TYPE_CGROUP_DEVICE = 15;
const BPF_CGROUP_DEVICE = 6;
/** Several programs may sit on one cgroup and its ancestors; all must allow (bpf(2)). */
const BPF_F_ALLOW_MULTI = 2;
const ATTR_SIZE = 128;

function bpf(cmd: number, attr: Buffer): number {
  const nr = nativeSyscallNumber("bpf");
  if (nr === undefined) throw new Error("bpf: no syscall number for this architecture");
  return Number(libc.symbols.syscall(nr, cmd, ptr(attr), ATTR_SIZE, 0, 0));
}

/** Loads `insns` (struct bpf_insn[]) as a cgroup device program; returns its fd. */
export function loadDeviceProgram(insns: Uint8Array): number {
  const code = Buffer.from(insns.buffer, insns.byteOffset, insns.byteLength);
  const license = cstr("Apache-2.0");
  const log = Buffer.alloc(16384);
  const attr = Buffer.alloc(ATTR_SIZE);
  attr.writeUInt32LE(BPF_PROG_TYPE_CGROUP_DEVICE, 0);
  attr.writeUInt32LE(code.length / 8, 4);
  attr.writeBigUInt64LE(BigInt(ptr(code)), 8);
  attr.writeBigUInt64LE(BigInt(ptr(license)), 16);
  attr.writeUInt32LE(1, 24); // log_level: the verifier says why it refuses
  attr.writeUInt32LE(log.length, 28);
  attr.writeBigUInt64LE(BigInt(ptr(log)), 32);
  const fd = bpf(BPF_PROG_LOAD, attr);
  if (fd < 0) {
    const err = errno();
    throw new SyscallError("bpf(BPF_PROG_LOAD)", err, log.toString("utf8").replace(/\0[\s\S]*$/, "").trim().slice(-300));
  }
  return fd;
}

/** Attaches a device program to the cgroup v2 directory `dir`. */
export function attachDeviceProgram(dir: string, progFd: number): void {
  const cg = openSync(dir, "r");
  try {
    const attr = Buffer.alloc(ATTR_SIZE);
    attr.writeUInt32LE(cg, 0);
    attr.writeUInt32LE(progFd, 4);
    attr.writeUInt32LE(BPF_CGROUP_DEVICE, 8);
    attr.writeUInt32LE(BPF_F_ALLOW_MULTI, 12);
    check("bpf(BPF_PROG_ATTACH)", bpf(BPF_PROG_ATTACH, attr), dir);
  } finally {
    closeSync(cg);
  }
}

/** Loads and attaches in one go; the program stays as long as the cgroup does. */
export function restrictDevices(dir: string, insns: Uint8Array): void {
  const fd = loadDeviceProgram(insns);
  try {
    attachDeviceProgram(dir, fd);
  } finally {
    closeSync(fd);
  }
}
