// A Syscalls fake that records every call (youki's syscall/test.rs idea):
// chdir/pivot_root are tracked so `path()` maps container paths into the temp
// dir that stands in for the new root; execve throws an Exec carrying its
// arguments; `failOn` injects errors.
import { readlinkSync } from "node:fs";
import { join } from "node:path";
import type { MountSpec } from "../../../src/kernel/mount.ts";
import type { Syscalls } from "../../../src/kernel/syscall-types.ts";
import type { InitIO } from "../../../src/engine/execdriver/init.ts";

export type Call = [string, ...unknown[]];

export class Exec extends Error {
  constructor(
    readonly path: string,
    readonly argv: string[],
    readonly env: string[],
  ) {
    super("execve");
  }
}

export class FakeSyscalls implements Syscalls {
  calls: Call[] = [];
  cwd = "/";
  root: string | null = null;
  failOn = new Map<string, { errno: number; message: string }>();

  private rec(name: string, ...args: unknown[]): void {
    this.calls.push([name, ...args]);
    const f = this.failOn.get(name);
    if (f) throw Object.assign(new Error(`${name}: ${f.message}`), { errno: f.errno });
  }
  /** Container path → where the test keeps it (after the fake pivot_root). */
  path = (p: string): string => (this.root ? join(this.root, p) : p);
  names(): string[] {
    return this.calls.map((c) => c[0]);
  }

  unshare(flags: number) { this.rec("unshare", flags); }
  setns(fd: number, type: number) { this.rec("setns", fd, type); }
  // Targets pinned through /proc/self/fd/N (rootfs.ts) are recorded as the path the descriptor names then.
  mount(source: string | null, target: string, fstype: string | null, flags: number, data: string | null) {
    this.rec("mount", source, /^\/proc\/self\/fd\/\d+$/.test(target) ? readlinkSync(target) : target, fstype, flags, data);
  }
  mountSpec(spec: MountSpec, target: string) { this.rec("mountSpec", spec, target); }
  umount2(target: string, flags: number) { this.rec("umount2", target, flags); }
  pivotRoot(a: string, b: string) {
    this.rec("pivotRoot", a, b);
    this.root = this.cwd;
  }
  chdir(p: string) {
    this.rec("chdir", p);
    this.cwd = p;
  }
  sethostname(n: string) { this.rec("sethostname", n); }
  setdomainname(n: string) { this.rec("setdomainname", n); }
  prctl(op: number, a = 0, b = 0) {
    this.rec("prctl", op, a, b);
    return 0;
  }
  capset(e: bigint, p: bigint, i: bigint) { this.rec("capset", e, p, i); }
  permitted = (1n << 64n) - 1n;
  permittedCaps() {
    return this.permitted;
  }
  setgroups(g: number[]) { this.rec("setgroups", g); }
  setresgid(g: number) { this.rec("setresgid", g); }
  setresuid(u: number) { this.rec("setresuid", u); }
  setsid() { this.rec("setsid"); }
  setControllingTty(fd: number) { this.rec("setControllingTty", fd); }
  mknod(p: string, type: number, perm: number, major: number, minor: number) { this.rec("mknod", p, type, perm, major, minor); }
  umask(m: number) {
    this.rec("umask", m);
    return 0o022;
  }
  close(fd: number) { this.rec("close", fd); }
  seccomp(program: Uint8Array) { this.rec("seccomp", program.length); }
  setrlimit(resource: number, soft: number, hard: number) { this.rec("setrlimit", resource, soft, hard); }
  setCloexec(fd: number) { this.rec("setCloexec", fd); }
  dup2(a: number, b: number) { this.rec("dup2", a, b); }
  openPty() {
    this.rec("openPty");
    return { master: 99, slavePath: "/dev/pts/0" };
  }
  execve(path: string, argv: string[], env: string[]): never {
    this.rec("execve", path, argv, env);
    throw new Exec(path, argv, env);
  }
}

/** Scripted daemon side: answers in order, records what init said. */
export class FakeIO implements InitIO {
  sent: string[] = [];
  constructor(private readonly answers: string[] = ["go"]) {}
  send(line: string) { this.sent.push(line); }
  receive() { return this.answers.shift() ?? ""; }
}
