// `ctr init`: a container's first process until it execve()s the command.
//
// Bun is multi-threaded, so no JavaScript may run in a forked child; instead
// the daemon unshares (or setns) CLONE_NEWPID around Bun.spawn — that only
// changes where the *calling thread's* children go — so this program starts
// as pid 1 of the container's pid namespace. Everything here then runs on the
// main thread: unshare/setns of mnt/uts/ipc/net/cgroup, setres[ug]id and
// capset apply to the calling thread only (kernel docs: unshare(2),
// setns(2), capset(2)), and execve(2) ends the other threads. No other thread
// of ours ever runs user-visible code afterwards.
import { chownSync, existsSync, mkdirSync, openSync, readSync, statSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import * as K from "../../kernel/syscall-types.ts";
import type { Syscalls } from "../../kernel/syscall-types.ts";
import { capMask, lastCap } from "../../kernel/capabilities.ts";
import { confineBeforeExec, confineBeforeIdentity } from "./confine.ts";
import { lookPath, resolveUser } from "./identity.ts";
import { errorLine, HELLO_FD, JOIN_CGROUP_ENV, SPEC_FD, STATUS_FD, USERNS_INIT_ENV, type FinalStage, type InitMessage } from "./protocol.ts";
import { finishRoot, mountSystem, restrictPaths, setupRoot, type PathMap } from "./rootfs.ts";
import type { ContainerSpec, ExecSpec, NamespaceSpec, UsernsSpec } from "./types.ts";
import { containerUserns, enterOwnedNamespaces, hostId, idmapRootfs, spawnAndSupervise, type ResolvedCommand, type UsernsKernel } from "./userns-stage.ts";
import { DEFAULT_PATH_ENV } from "../default-path.ts";

/** The init's two pipes, as lines. */
export interface InitIO {
  send(line: string): void;
  /** Blocks until a line arrives; "" on EOF. */
  receive(): string;
}

export interface InitContext {
  sys: Syscalls;
  io: InitIO;
  /** Maps an absolute container path for node:fs checks after pivot_root (identity in real life). */
  path: PathMap;
  /** Reaper mode: starts the command stage (`<init command> child`). */
  spawnChild?(): ChildStage;
  /** Loaded only for a container with a user namespace of its own (userns-stage.ts). */
  userns?: UsernsKernel;
}

export interface ChildStage {
  pid: number;
  /** Resolves once the child has loaded (it is about to lose its files to pivot_root). */
  loaded(): Promise<void>;
  send(msg: InitMessage): void;
  exited: Promise<number>;
  kill(sig: number): void;
}

/** An error with the exit status Docker gives it (126 cannot execute, 127 not found). */
export class InitError extends Error {
  constructor(
    message: string,
    readonly code: number,
  ) {
    super(message);
  }
}

const NS_FLAGS = { net: K.CLONE_NEWNET, ipc: K.CLONE_NEWIPC, uts: K.CLONE_NEWUTS } as const;

function joinNamespace(sys: Syscalls, path: string, type: number): void {
  const fd = openSync(path, "r");
  try {
    sys.setns(fd, type);
  } finally {
    sys.close(fd);
  }
}

function waitForGo(io: InitIO): void {
  const answer = io.receive();
  if (answer !== "go") throw new InitError(`aborted by the daemon (${answer || "EOF"})`, 125);
}

/** `ctr init` for a new container. Returns only in reaper mode (the promise of pid 1's exit status). */
export function startContainer(spec: ContainerSpec, ctx: InitContext): Promise<number> | never {
  const { sys } = ctx;
  // mknod and mkdir below must get exactly the modes we ask for.
  sys.umask(0);
  const ns: Record<keyof typeof NS_FLAGS, NamespaceSpec> = { net: spec.network, ipc: spec.ipc ?? { mode: "new" }, uts: spec.uts ?? { mode: "new" } };
  let flags = K.CLONE_NEWNS;
  for (const [name, s] of Object.entries(ns)) if (s.mode === "new") flags |= NS_FLAGS[name as keyof typeof NS_FLAGS];
  // A user namespace of its own: the new net/uts/ipc belong to it (userns-stage.ts), the mount namespace to us.
  const usernsFd = spec.userns ? enterOwnedNamespaces(spec.userns, flags, ctx.userns!, sys) : undefined;
  sys.unshare(usernsFd === undefined ? flags : K.CLONE_NEWNS);
  for (const [name, s] of Object.entries(ns)) if (s.mode === "join") joinNamespace(sys, s.path, NS_FLAGS[name as keyof typeof NS_FLAGS]);
  // Still the host's /proc, but /proc/sys/net and the ipc keys resolve in the
  // caller's namespaces (sysctl(8) on a netns/ipcns): these are the container's now.
  for (const [key, value] of Object.entries(spec.sysctls ?? {})) writeFileSync(`/proc/sys/${key.replaceAll(".", "/")}`, value);
  ctx.io.send("ready");
  // The daemon put us into the container's cgroup before it sent the spec: a cgroup
  // namespace made now has that cgroup as its root (cgroup_namespaces(7)). Linux < 4.6 has none.
  try {
    sys.unshare(K.CLONE_NEWCGROUP);
  } catch {}
  if (usernsFd !== undefined) {
    waitForGo(ctx.io);
    // init stays pid 1 anyway (it supervises the command it forks): that is --init's reaper too.
    const final = { ...prepareRoot(spec, ctx, () => setupRoot(spec, sys, () => idmapRootfs(spec.rootfs, spec.userns!, usernsFd, ctx.userns!))), usernsFd };
    return superviseCommand(final, ctx);
  }
  // ready → go is the daemon's network plug and the container's files (~1–5 ms):
  // the mounts that need neither happen meanwhile, in our own mount namespace.
  beforeGo(ctx.io, () => mountSystem(spec, sys));
  const root = () => finishRoot(spec, sys);
  // Reaper mode: the command stage must be started while our files are still
  // reachable, and have loaded them, before pivot_root takes them away.
  if (spec.init && ctx.spawnChild) {
    const child = ctx.spawnChild();
    return child.loaded().then(() => reap(child, prepareRoot(spec, ctx, root), ctx));
  }
  return runCommand(prepareRoot(spec, ctx, root), ctx);
}

/**
 * Runs `work`, then waits for "go"; a failure of `work` is told only after
 * that: the daemon reads our next line once it has written "go" (had we
 * exited before, its write would fail with EPIPE and the reason be lost).
 */
function beforeGo(io: InitIO, work: () => void): void {
  let failure: { error: unknown } | null = null;
  try {
    work();
  } catch (error) {
    failure = { error };
  }
  waitForGo(io);
  if (failure) throw failure.error;
}

/** Root, restrictions, hostname and terminal: everything before identity and execve. */
function prepareRoot(spec: ContainerSpec, ctx: InitContext, mountRoot: () => void): FinalStage {
  const { sys } = ctx;
  mountRoot();
  restrictPaths(spec, sys, ctx.path);
  if ((spec.uts ?? { mode: "new" }).mode === "new") {
    sys.sethostname(spec.hostname);
    if (spec.domainname) sys.setdomainname(spec.domainname);
  }
  const consoleSlave = spec.process.terminal ? handOverPty(ctx, true, spec.userns) : null;
  return { process: spec.process, capabilities: spec.capabilities, noNewPrivileges: spec.noNewPrivileges, confinement: spec.confinement, consoleSlave };
}

/** `ctr init` for `exec`: already in the container's pid namespace (the daemon setns'd around the spawn). */
export function execInContainer(pid: number, spec: ExecSpec, ctx: InitContext): Promise<number> | never {
  const { sys } = ctx;
  // Found (and the helper compiled) while the host's /proc and /tmp are still ours.
  const usernsFd = spec.userns ? containerUserns(pid, ctx.userns!) : undefined;
  // setns(CLONE_NEWNS) refuses a task whose fs struct is shared (setns(2)
  // EINVAL): Bun's threads share ours, so take a private copy first.
  sys.unshare(K.CLONE_FS);
  // mnt last: the other /proc/<pid>/ns paths are opened through the host's /proc.
  const order: [string, number][] = [["ipc", K.CLONE_NEWIPC], ["uts", K.CLONE_NEWUTS], ["net", K.CLONE_NEWNET], ["cgroup", K.CLONE_NEWCGROUP], ["mnt", K.CLONE_NEWNS]];
  const fds = order.map(([name, type]) => [openSync(`/proc/${pid}/ns/${name}`, "r"), type] as const);
  for (const [fd, type] of fds) {
    try {
      // Joining a namespace we are already in is EINVAL for some types (host net): harmless.
      sys.setns(fd, type);
    } catch (e) {
      if (type === K.CLONE_NEWNS) throw e;
    } finally {
      sys.close(fd);
    }
  }
  sys.chdir("/");
  ctx.io.send("ready");
  waitForGo(ctx.io);
  const consoleSlave = spec.terminal ? handOverPty(ctx, false) : null;
  const process = { args: spec.args, env: spec.env, cwd: spec.cwd, user: spec.user, terminal: spec.terminal, groupAdd: spec.groupAdd };
  const final: FinalStage = { process, capabilities: spec.capabilities, noNewPrivileges: spec.noNewPrivileges, confinement: spec.confinement, consoleSlave, usernsFd };
  if (usernsFd !== undefined) return superviseCommand(final, ctx);
  return runCommand(final, ctx);
}

/**
 * Opens the pty inside the container's devpts (so `tty` says /dev/pts/0),
 * lends the master to the daemon (it takes a copy with pidfd_getfd), and
 * binds the slave onto /dev/console for a container's pid 1, as runc does.
 */
function handOverPty(ctx: InitContext, console: boolean, userns?: UsernsSpec): string {
  const { master, slavePath } = ctx.sys.openPty();
  // Opened by us (host root): the terminal is the container root's, group tty, as it would be inside.
  if (userns) chownSync(ctx.path(slavePath), hostId(userns.uidMap, 0), hostId(userns.gidMap, 5));
  ctx.io.send(`pty ${master}`);
  const ok = ctx.io.receive();
  ctx.sys.close(master);
  if (ok !== "ok") throw new InitError(`the daemon did not take the terminal (${ok || "EOF"})`, 125);
  if (console) {
    const target = "/dev/console";
    if (!existsSync(ctx.path(target))) openSync(ctx.path(target), "a");
    ctx.sys.mount(slavePath, target, null, K.MS_BIND, null);
  }
  return slavePath;
}


function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

/**
 * Identity, environment, terminal, cwd and the command's path: everything
 * before the privileges change. With a user namespace the terminal's new
 * session is made by the forked command itself (userns-stage.ts).
 */
function resolveCommand(f: FinalStage, ctx: InitContext): ResolvedCommand {
  const { sys } = ctx;
  const p = f.process;
  const id = resolveUser(p.user, ctx.path("/etc/passwd"), ctx.path("/etc/group"), p.groupAdd ?? []);
  let env = p.env.some((e) => e.startsWith("PATH=")) ? p.env : [DEFAULT_PATH_ENV, ...p.env];
  if (!env.some((e) => e.startsWith("HOME="))) env = [...env, `HOME=${id.home}`];
  if (f.consoleSlave) {
    // A new session whose controlling terminal is the slave (credentials(7), tty_ioctl(4) TIOCSCTTY).
    if (f.usernsFd === undefined) sys.setsid();
    const fd = openSync(ctx.path(f.consoleSlave), "r+");
    for (const n of [0, 1, 2]) sys.dup2(fd, n);
    if (fd > 2) sys.close(fd);
    if (f.usernsFd === undefined) sys.setControllingTty(0);
  }
  // Docker creates a missing working directory (owned by root) rather than failing.
  const cwd = p.cwd || "/";
  if (!existsSync(ctx.path(cwd))) mkdirSync(ctx.path(cwd), { recursive: true, mode: 0o755 });
  sys.chdir(cwd);
  const cmd = p.args[0];
  if (!cmd) throw new InitError("no command specified", 126);
  const found = lookPath(cmd, env, (q) => isFile(ctx.path(q.startsWith("/") ? q : join(cwd, q))));
  if (!found) throw new InitError(`exec: "${cmd}": executable file not found in $PATH`, 127);
  if (!isFile(ctx.path(found.startsWith("/") ? found : join(cwd, found)))) throw new InitError(`exec: "${cmd}": stat ${found}: no such file or directory`, 127);
  return { path: found, argv: p.args, env, uid: id.uid, gid: id.gid, groups: id.groups, tty: !!f.consoleSlave };
}

/** Identity, terminal, cwd, privileges, then execve — the last thing init does. */
export function runCommand(f: FinalStage, ctx: InitContext): never {
  const { sys } = ctx;
  const { path: found, argv, env, ...id } = resolveCommand(f, ctx);
  const cmd = argv[0]!;
  confineBeforeIdentity(sys, ctx.path, f.confinement, f.noNewPrivileges);
  dropPrivileges(sys, id, f);
  confineBeforeExec(sys, f.confinement, f.noNewPrivileges);
  sys.umask(0o022);
  sys.setCloexec(SPEC_FD);
  sys.setCloexec(STATUS_FD);
  try {
    return sys.execve(found, argv, env);
  } catch (e) {
    throw execFailure(e, cmd, found);
  }
}

/** Docker's wording and exit status for an execve that failed. */
function execFailure(e: unknown, cmd: string, found: string): unknown {
  const errno = (e as { errno?: number }).errno;
  if (typeof errno !== "number") return e;
  if (errno === 13) return new InitError(`exec: "${cmd}": permission denied`, 126);
  if (errno === 2) return new InitError(`exec: "${cmd}": stat ${found}: no such file or directory`, 127);
  return new InitError(`exec: "${cmd}": ${(e as Error).message}`, 126);
}

/** The userns path's end (userns-stage.ts): the command forked into the user namespace, init supervising it. */
function superviseCommand(f: FinalStage, ctx: InitContext): Promise<number> {
  const c = resolveCommand(f, ctx);
  try {
    return spawnAndSupervise(f, c, ctx.userns!, ctx.sys);
  } catch (e) {
    throw execFailure(e, c.argv[0]!, c.path);
  }
}

/**
 * runc's order: bounding set, then groups/gid/uid, then capset. After the
 * switch to a non-root uid the kernel has cleared permitted/effective
 * (capabilities(7) "Effect of user ID changes"); execve of a plain binary by
 * a non-root user yields no capabilities anyway, as with Docker's `-u`.
 * Inheritable stays empty (Docker ≥ 20.10.14, CVE-2022-24769).
 */
function dropPrivileges(sys: Syscalls, id: { uid: number; gid: number; groups: number[] }, f: FinalStage): void {
  // --privileged asks for everything; a daemon that lacks some (a restricted
  // sandbox) can only pass on what it has, as Docker's privileged = the daemon's set.
  const keep = capMask(f.capabilities) & sys.permittedCaps();
  const last = lastCap();
  for (let c = 0; c <= last; c++) if (!(keep & (1n << BigInt(c)))) sys.prctl(K.PR_CAPBSET_DROP, c);
  try {
    sys.prctl(K.PR_CAP_AMBIENT, K.PR_CAP_AMBIENT_CLEAR_ALL);
  } catch {}
  sys.setgroups(id.groups);
  sys.setresgid(id.gid);
  sys.setresuid(id.uid);
  if (id.uid === 0) sys.capset(keep, keep, 0n);
  else sys.capset(0n, 0n, 0n);
  if (f.noNewPrivileges) sys.prctl(K.PR_SET_NO_NEW_PRIVS, 1);
}

/**
 * docker run --init: we stay pid 1, forward signals to the command and reap
 * orphans (what tini does); the exit status is the command's, 128+n when a
 * signal killed it.
 */
async function reap(child: ChildStage, final: FinalStage, ctx: InitContext): Promise<number> {
  // Orphans re-parent to us as pid 1 of the namespace; PR_SET_CHILD_SUBREAPER is implied there.
  child.send({ kind: "child", ...final });
  ctx.sys.close(SPEC_FD);
  ctx.sys.close(STATUS_FD);
  return child.exited;
}

/** The command stage under a reaper: identity, privileges, execve. */
export function childStage(f: FinalStage, ctx: InitContext): never {
  return runCommand(f, ctx);
}

// ---- the real process: pipes, the reaper's helpers, the entry point ----

function fdIO(): InitIO {
  // Read in chunks, not byte by byte: the spec line carries a seccomp program
  // (~12 KB), and a readSync per byte cost ~10 ms. Only this process reads
  // fd 3, so bytes read past a newline simply wait here for the next receive().
  let pending = Buffer.alloc(0);
  const chunk = Buffer.alloc(65536);
  return {
    send: (line) => void writeSync(STATUS_FD, line + "\n"),
    receive: () => {
      for (;;) {
        const nl = pending.indexOf(10);
        if (nl >= 0) {
          const line = pending.subarray(0, nl).toString();
          pending = pending.subarray(nl + 1);
          return line;
        }
        const n = readSync(SPEC_FD, chunk, 0, chunk.length, null);
        if (n === 0) {
          const rest = pending.toString();
          pending = Buffer.alloc(0);
          return rest;
        }
        pending = Buffer.concat([pending, chunk.subarray(0, n)]);
      }
    },
  };
}

export async function initMain(args: string[]): Promise<never> {
  const { linuxSyscalls } = await import("../../kernel/syscalls.ts");
  const io = fdIO();
  const ctx: InitContext = { sys: linuxSyscalls, io, path: (p) => p };
  let code: number;
  try {
    // Non-dumpable until execve (which resets it): processes in the container
    // cannot open /proc/<us>/exe — the host's binary — or our fds (runc does
    // the same in nsexec; cf. CVE-2019-5736). The reaper never execs, so it stays so.
    linuxSyscalls.prctl(K.PR_SET_DUMPABLE, 0);
    // An init started ahead joins its waiting cgroup itself: the migration's
    // RCU wait then falls on this process, not on the daemon's event loop.
    for (const f of (process.env[JOIN_CGROUP_ENV] ?? "").split(":").filter(Boolean)) writeFileSync(f, "0");
    if (args[0] === "child") {
      writeSync(HELLO_FD, "loaded\n");
      linuxSyscalls.close(HELLO_FD);
    }
    // Kept ahead (warm.ts) under --userns-remap: TinyCC's ~10 ms go into the wait, not the start.
    if (process.env[USERNS_INIT_ENV] && process.env[JOIN_CGROUP_ENV]) (ctx.userns = await import("../../kernel/userns.ts")).prepare();
    const msg = JSON.parse(io.receive()) as InitMessage;
    if (msg.kind !== "child" && msg.spec.userns) ctx.userns ??= await import("../../kernel/userns.ts");
    if (msg.kind === "exec") process.exit(await execInContainer(msg.pid, msg.spec, ctx));
    if (msg.kind === "child") childStage(msg, ctx);
    if (msg.spec.init) {
      // Only --init needs the reaper (and node:os): most starts skip loading it.
      const { realSpawnChild } = await import("./reaper.ts");
      ctx.spawnChild = () => realSpawnChild(msg.initCommand, msg.initEnv);
    }
    code = await (startContainer(msg.spec, ctx) as Promise<number>);
  } catch (e) {
    code = e instanceof InitError ? e.code : 127;
    try {
      io.send(errorLine(code, (e as Error).message));
    } catch {
      process.stderr.write(`ctr init: ${(e as Error).message}\n`);
    }
  }
  process.exit(code);
}
