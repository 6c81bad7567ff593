// The daemon's own clone of an exec'd command (exec-helper.c): no `ctr init`
// process, so an exec costs a clone and an execve instead of booting Bun.
//
// Compiled at run time by bun:ffi's cc (TinyCC inside Bun) from the source
// embedded in the binary as text, once per daemon, at the first exec.
import { ptr } from "bun:ffi";
import { closeSync } from "node:fs";
import source from "./exec-helper.c" with { type: "text" };
import { cstr, SyscallError } from "./libc.ts";
import { pipe, waitChild } from "./fds.ts";
import { compileEmbedded, syscallNumbers } from "./embedded-c.ts";
import { prctl, PR_SET_DUMPABLE } from "./syscalls.ts";

/** Syscall numbers the helper needs, in exec-helper.c's NR_* order (a unit test compares them). */
export const CALLS = ["setns", "write", "exit_group", "rt_sigprocmask", "rt_sigaction", "close_range", "dup3", "fcntl", "umask", "chdir", "mkdirat", "prlimit64", "prctl", "setgroups", "setresgid", "setresuid", "capset", "execve", "setsid", "openat", "ioctl", "close"] as const;

/** Names of exec-helper.c's stages, by number (its S_* order). */
export const STAGES = ["", "join cgroup", "setns", "stdio", "chdir", "setrlimit", "seccomp", "drop bounding set", "setgroups", "setresgid", "setresuid", "capset", "no_new_privs", "exec", "terminal"] as const;
export type ExecStage = (typeof STAGES)[number];

export interface NativeCommand {
  /** The container's pid namespace (a descriptor), or null to stay in ours (PidMode host). */
  pidns: number | null;
  /** Joined in this order; a failure is fatal only for the mount namespace. */
  namespaces: { fd: number; type: number }[];
  /** Open cgroup.procs files (O_WRONLY) the child writes itself into. */
  cgroupProcs: number[];
  stdin: number;
  stdout: number;
  stderr: number;
  cwd: string;
  /** setrlimit(2) values; -1 = RLIM_INFINITY. */
  rlimits: { resource: number; soft: number; hard: number }[];
  seccomp?: Uint8Array;
  noNewPrivileges: boolean;
  /** Bounding set; effective and permitted too when uid is 0. */
  keep: bigint;
  lastCap: number;
  uid: number;
  gid: number;
  groups: number[];
  argv: string[];
  env: string[];
  /** PATH to search for argv[0]; null when argv[0] names a path. */
  search: string | null;
  /** A user namespace to join after the others (a remapped container's), or null. */
  userns?: number | null;
  /** A pty slave (its path inside the container) to be stdio and controlling terminal instead of the pipes. */
  tty?: string | null;
}

/** The child could not become the command: `stage` failed with `errno` (EACCES/ENOENT at "exec" = not runnable). */
export class NativeExecError extends SyscallError {
  constructor(
    readonly stage: ExecStage,
    errno: number,
    detail = "",
  ) {
    super(stage, errno, detail);
    this.name = "NativeExecError";
  }
}

type Helper = { nr: BigInt64Array; spawn(p: unknown): number };
let helper: Helper | null = null;

/** Compiles exec-helper.c once. */
function load(): Helper {
  if (helper) return helper;
  const lib = compileEmbedded("exec-helper.c", source, { ctr_exec_spawn: { args: ["ptr"], returns: "i32" } });
  const nr = syscallNumbers(CALLS);
  // The child shares our memory until execve, and our mm's dumpable flag with it: with it
  // cleared, a process in the container can neither ptrace nor open /proc/<child>/{mem,exe,fd}
  // of the daemon it briefly is (CVE-2019-5736; `ctr init` clears it for itself, runc too).
  prctl(PR_SET_DUMPABLE, 0);
  helper = { nr, spawn: (p) => lib.symbols.ctr_exec_spawn(p as never) };
  return helper;
}

let broken: string | null = null;

/** Whether the helper compiles here (TinyCC present and working); compiles it the first time. */
export function available(): boolean {
  if (broken !== null) return false;
  try {
    load();
    return true;
  } catch (e) {
    // Once: a failed compile would cost ~10 ms at every exec. `ctr init` serves them instead.
    broken = (e as Error).message;
    console.error(`level=warn msg="execs go through ctr init: the native exec helper does not compile here: ${broken}"`);
    return false;
  }
}

/** A NULL-terminated char*[]; the strings go into `keep`. */
function cArray(items: readonly string[], keep: unknown[]): BigInt64Array {
  const arr = new BigInt64Array(items.length + 1);
  items.forEach((s, i) => {
    const b = cstr(s);
    keep.push(b);
    arr[i] = BigInt(ptr(b));
  });
  keep.push(arr);
  return arr;
}

function longs(values: readonly (number | bigint)[], keep: unknown[]): BigInt64Array {
  const a = BigInt64Array.from(values.map((v) => BigInt.asIntN(64, BigInt(v))));
  keep.push(a);
  return a;
}

const RLIM_INFINITY = 0xffffffffffffffffn;

/** The v3 capset(2) header and data: effective = permitted = `set`, inheritable empty (CVE-2022-24769). */
function capData(set: bigint, keep: unknown[]): [Buffer, Buffer] {
  const hdr = Buffer.alloc(8);
  hdr.writeUInt32LE(0x20080522, 0);
  const data = Buffer.alloc(24);
  for (const k of [0, 1]) {
    data.writeUInt32LE(Number(set & 0xffffffffn), k * 4);
    data.writeUInt32LE(Number((set >> 32n) & 0xffffffffn), 12 + k * 4);
  }
  keep.push(hdr, data);
  return [hdr, data];
}

/**
 * Clones the command into the container and resolves with its pid once
 * execve succeeded (the child is ours: the caller reaps it). Rejects with
 * NativeExecError when a stage failed (the child is reaped here),
 * SyscallError("clone") when no child was made (ENOMEM: the pid namespace's
 * init is gone). The clone waits on a thread of its own, never on the event loop.
 */
export async function spawnNative(c: NativeCommand): Promise<number> {
  const h = load();
  const keep: unknown[] = [];
  const rl = c.rlimits.flatMap((r) => [r.resource, r.soft < 0 ? RLIM_INFINITY : r.soft, r.hard < 0 ? RLIM_INFINITY : r.hard]);
  let fprog = 0;
  if (c.seccomp) {
    const prog = Buffer.from(c.seccomp);
    const f = Buffer.alloc(16); // struct sock_fprog { u16 len; sock_filter *filter }
    f.writeUInt16LE(prog.length / 8, 0);
    f.writeBigUInt64LE(BigInt(ptr(prog)), 8);
    keep.push(prog, f);
    fprog = ptr(f);
  }
  const groups = new Uint32Array(Math.max(1, c.groups.length));
  c.groups.forEach((g, i) => (groups[i] = g));
  keep.push(groups);
  const [hdr, data] = capData(c.uid === 0 ? c.keep : 0n, keep);
  const cwd = cstr(c.cwd);
  const cmd = cstr(c.argv[0] ?? "");
  const search = c.search === null ? null : cstr(c.search);
  const tty = c.tty ? cstr(c.tty) : null;
  keep.push(cwd, cmd, search, tty);
  const result = pipe();
  const p = longs(
    [
      ptr(h.nr),
      c.pidns ?? -1,
      result.write,
      ptr(longs(c.namespaces.length ? c.namespaces.map((n) => n.fd) : [0], keep)),
      ptr(longs(c.namespaces.length ? c.namespaces.map((n) => n.type) : [0], keep)),
      c.namespaces.length,
      ptr(longs(c.cgroupProcs.length ? c.cgroupProcs : [0], keep)),
      c.cgroupProcs.length,
      c.stdin,
      c.stdout,
      c.stderr,
      ptr(cwd),
      ptr(longs(rl.length ? rl : [0], keep)),
      c.rlimits.length,
      fprog,
      c.noNewPrivileges ? 1 : 0,
      c.keep,
      c.lastCap,
      c.groups.length,
      ptr(groups),
      c.uid,
      c.gid,
      ptr(hdr),
      ptr(data),
      ptr(cmd),
      search ? ptr(search) : 0,
      ptr(cArray(c.argv, keep)),
      ptr(cArray(c.env, keep)),
      c.userns ?? -1,
      tty ? ptr(tty) : 0,
      0, // the child's failed stage
      0, // and its errno
    ],
    keep,
  );
  let out: BigInt64Array;
  try {
    const rc = h.spawn(ptr(p));
    if (rc < 0) throw new SyscallError("pthread_create", -rc);
    // Every buffer above stays referenced until the thread has written: the child reads them until execve.
    out = await readResult(result.read);
  } finally {
    closeSync(result.write);
    closeSync(result.read);
    void keep.length;
  }
  const pid = Number(out[0]);
  if (pid < 0) throw new SyscallError("clone", -pid);
  if (out[1] !== 0n) {
    waitChild(pid); // it reported its failure and has exited
    throw new NativeExecError(STAGES[Number(out[1])] ?? "exec", Number(out[2]));
  }
  return pid;
}

/** The thread's 3 longs, read on the event loop (a pipe Bun polls). */
async function readResult(fd: number): Promise<BigInt64Array> {
  const reader = Bun.file(fd).stream().getReader();
  const parts: Uint8Array[] = [];
  let n = 0;
  try {
    while (n < 24) {
      const r = await reader.read();
      if (r.done) throw new Error("the exec thread ended without a result");
      parts.push(r.value);
      n += r.value.length;
    }
  } finally {
    void reader.cancel().catch(() => {});
  }
  const b = Buffer.concat(parts);
  return new BigInt64Array(b.buffer.slice(b.byteOffset, b.byteOffset + 24));
}
