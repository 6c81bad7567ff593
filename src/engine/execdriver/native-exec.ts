// `exec` without `ctr init`: the daemon clones the command itself
// (kernel/exec-spawn.ts, C compiled at run time) into the running container —
// its pid namespace (the cloning thread's setns), its cgroup, then
// ipc/uts/net/cgroup/mnt (and a user namespace), identity, capabilities,
// no_new_privs, seccomp and rlimits as `ctr init` would apply them — and it is
// the command from its execve on. Booting a Bun init per exec cost ~12 ms of
// CPU; this costs a clone.
//
// Covered: an exec with or without a terminal (a pty of the container's own
// devpts: the daemon keeps the master, the child opens the slave), into a
// container with or without a user namespace of its own (the child joins it
// last, after what host root joins). An AppArmor exec label still goes
// through `ctr init` (driver.ts).
import { closeSync, openSync } from "node:fs";
import { constants } from "node:os";
import * as K from "../../kernel/syscall-types.ts";
import { available, NativeExecError, spawnNative } from "../../kernel/exec-spawn.ts";
import { openRoot, readInRoot } from "../../kernel/root-files.ts";
import { openPtyIn, setWinsize } from "../../kernel/pty.ts";
import { pipe, setNonblock } from "../../kernel/fds.ts";
import { owningUserns } from "../../kernel/userns.ts";
import { capMask, lastCap } from "../../kernel/capabilities.ts";
import { permittedCaps } from "../../kernel/syscalls.ts";
import { SyscallError } from "../../kernel/libc.ts";
import { ConflictError } from "../errors.ts";
import { resolveUserIn } from "./identity.ts";
import { exitOf, poke, running } from "./native-children.ts";
import { outputReadable, stdinWritable, terminal } from "./native-stdio.ts";
import type { ExecSpec, RunningProcess } from "./types.ts";
import { DEFAULT_PATH, DEFAULT_PATH_ENV } from "../default-path.ts";

/** Raised as the driver's StartError (an import of driver.ts from here would be a cycle). */
export type StartErrorFactory = (message: string, exitCode: number) => Error;

/** /etc/passwd and /etc/group larger than this are read by `ctr init` instead, in its own process. */
const MAX_ID_FILE = 4 << 20;
// Joined in this order, mnt last (as init.ts); a remapped container's user namespace after them.
const NAMESPACES: [string, number][] = [["ipc", K.CLONE_NEWIPC], ["uts", K.CLONE_NEWUTS], ["net", K.CLONE_NEWNET], ["cgroup", K.CLONE_NEWCGROUP], ["mnt", K.CLONE_NEWNS]];
const SIGNALS = constants.signals as Record<string, number>;
const O_RDONLY = 0, O_WRONLY = 1, O_CLOEXEC = 0o2000000;

export class TooLargeForNative extends Error {}

/** Whether this exec can go the native way (see the top). */
export function coversNatively(spec: ExecSpec): boolean {
  const aa = spec.confinement?.apparmorProfile;
  return (!aa || aa === "unconfined") && available();
}

let daemonCaps: bigint | null = null;

function openAll(paths: string[], flags: string | number): number[] {
  const fds: number[] = [];
  try {
    for (const p of paths) fds.push(openSync(p, flags));
    return fds;
  } catch (e) {
    for (const fd of fds) closeSync(fd);
    throw e;
  }
}

/**
 * The user namespace of a remapped container: its pid 1 (init, supervising as host root) is in
 * ours, so it is found as the owner of the container's uts/ipc/net namespace (userns-stage.ts).
 */
function containerUserns(pid: number): number {
  for (const ns of ["uts", "ipc", "net"]) {
    const fd = owningUserns(`/proc/${pid}/ns/${ns}`);
    if (fd !== null) return fd;
  }
  throw new Error(`the user namespace of container process ${pid} was not found`);
}

/** `open()`, or the container's 409 when what it opens went with the container (its pid 1 ended meanwhile). */
function gone<T>(id: string, open: () => T): T {
  try {
    return open();
  } catch {
    throw new ConflictError(`Container ${id} is not running`);
  }
}

/** The user, groups and home of `spec.user` in the container's own /etc/passwd and /etc/group. */
function identity(root: number, spec: ExecSpec, startError: StartErrorFactory) {
  const read = (p: string) => {
    try {
      return readInRoot(root, p, MAX_ID_FILE);
    } catch (e) {
      if ((e as SyscallError).errno === 27) throw new TooLargeForNative();
      return null; // not a regular file, or unreadable: as missing (init's read would fail too)
    }
  };
  const passwd = read("/etc/passwd");
  const group = read("/etc/group");
  try {
    return resolveUserIn(spec.user, passwd, group, spec.groupAdd ?? []);
  } catch (e) {
    throw startError((e as Error).message, 127);
  }
}

/** Docker's wording (as init.ts has it) for a stage that failed in the child. */
function failure(e: NativeExecError, cmd: string, startError: StartErrorFactory): Error {
  if (e.stage !== "exec") return startError(e.message, 127);
  if (e.errno === 13) return startError(`exec: "${cmd}": permission denied`, 126);
  if (e.errno === 2) return startError(cmd.includes("/") ? `exec: "${cmd}": stat ${cmd}: no such file or directory` : `exec: "${cmd}": executable file not found in $PATH`, 127);
  return startError(`exec: "${cmd}": ${new SyscallError("execve", e.errno, cmd).message}`, 126);
}

/**
 * Runs `spec` in the container `id` whose pid 1 is `pid` (host pid) and whose
 * cgroup.procs files are `procs`. Throws ConflictError when the container
 * has gone, the driver's StartError when the command cannot start.
 */
export async function nativeExec(id: string, pid: number, procs: string[], spec: ExecSpec, startError: StartErrorFactory): Promise<RunningProcess> {
  daemonCaps ??= permittedCaps();
  const nsfds = gone(id, () => openAll(["pid", ...NAMESPACES.map(([n]) => n)].map((n) => `/proc/${pid}/ns/${n}`), O_RDONLY | O_CLOEXEC));
  const mine: number[] = [...nsfds];
  const theirs: number[] = [];
  try {
    const root = gone(id, () => openRoot(`/proc/${pid}/root`));
    mine.push(root);
    const who = identity(root, spec, startError);
    let env = spec.env.some((e) => e.startsWith("PATH=")) ? spec.env : [DEFAULT_PATH_ENV, ...spec.env];
    if (!env.some((e) => e.startsWith("HOME="))) env = [...env, `HOME=${who.home}`];
    const cmd = spec.args[0];
    if (!cmd) throw startError("no command specified", 126);
    const cgroupProcs = gone(id, () => openAll(procs, O_WRONLY | O_CLOEXEC));
    mine.push(...cgroupProcs);
    const pty = spec.terminal ? openPtyIn(root) : null;
    if (pty) {
      mine.push(pty.master);
      if (spec.consoleSize) setWinsize(pty.master, spec.consoleSize.rows, spec.consoleSize.cols);
    }
    const [i, o, e] = pty ? [null, null, null] : [pipe(), pipe(), pipe()];
    if (i && o && e) {
      mine.push(i.write, o.read, e.read);
      theirs.push(i.read, o.write, e.write);
      // Ours non-blocking (init-child.ts says why: Bun's read of a blocking pipe can sleep on the loop).
      for (const fd of [i.write, o.read, e.read]) setNonblock(fd);
    }
    const seccomp = spec.confinement?.seccomp;
    const userns = spec.userns ? containerUserns(pid) : null;
    if (userns !== null) mine.push(userns);
    let child: number;
    try {
      child = await spawnNative({
        pidns: nsfds[0]!,
        namespaces: NAMESPACES.map(([, type], k) => ({ fd: nsfds[k + 1]!, type })),
        cgroupProcs,
        stdin: i?.read ?? -1,
        stdout: o?.write ?? -1,
        stderr: e?.write ?? -1,
        tty: pty?.slavePath ?? null,
        cwd: spec.cwd || "/",
        rlimits: spec.confinement?.rlimits ?? [],
        ...(seccomp ? { seccomp: Buffer.from(seccomp, "base64") } : {}),
        noNewPrivileges: spec.noNewPrivileges,
        // --privileged asks for everything; a daemon that lacks some can only pass on what it has (init.ts).
        // In a user namespace of its own every capability exists: the list is the whole truth (userns-stage.ts).
        keep: userns !== null ? capMask(spec.capabilities) : capMask(spec.capabilities) & daemonCaps,
        userns,
        lastCap: lastCap(),
        uid: who.uid,
        gid: who.gid,
        groups: who.groups,
        argv: spec.args,
        env,
        // The first PATH, as lookPath (identity.ts) reads it.
        search: cmd.includes("/") ? null : (env.find((v) => v.startsWith("PATH="))?.slice(5) ?? DEFAULT_PATH),
      });
    } catch (err) {
      if (err instanceof NativeExecError) throw failure(err, cmd, startError);
      // clone(2) into a pid namespace whose init has ended: ENOMEM (the container exited meanwhile).
      if (err instanceof SyscallError && err.call === "clone" && err.errno === 12) throw new ConflictError(`Container ${id} is not running`);
      throw err;
    }
    for (const fd of [...nsfds, root, ...cgroupProcs, ...theirs, ...(userns !== null ? [userns] : [])]) closeSync(fd);
    mine.length = theirs.length = 0;
    const base = {
      pid: child,
      exited: exitOf(child),
      kill: (s: number | string) => {
        if (!running(child)) return;
        try {
          process.kill(child, typeof s === "number" ? s : (SIGNALS[s] ?? s));
        } catch {}
      },
    };
    if (pty) return { ...base, ...terminal(pty.master) };
    return { ...base, stdin: stdinWritable(i!.write), stdout: outputReadable(o!.read, poke), stderr: outputReadable(e!.read, poke) };
  } finally {
    for (const fd of [...mine, ...theirs]) closeSync(fd);
  }
}
