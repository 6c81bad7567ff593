// Pseudo-terminals for `-t`: the master stays with the daemon, the slave
// becomes the container process's stdin/stdout/stderr and controlling tty.
import { dlopen, FFIType, ptr } from "bun:ffi";
import { closeSync } from "node:fs";
import { check } from "./libc.ts";
import { openInRoot } from "./root-files.ts";

const { i32, u64, ptr: P, cstring } = FFIType;
const c = dlopen("libc.so.6", {
  posix_openpt: { args: [i32], returns: i32 },
  grantpt: { args: [i32], returns: i32 },
  unlockpt: { args: [i32], returns: i32 },
  ptsname: { args: [i32], returns: cstring },
  ioctl: { args: [i32, u64, P], returns: i32 },
});

const O_RDWR = 2, O_NOCTTY = 0o400, O_CLOEXEC = 0o2000000;
const TIOCSWINSZ = 0x5414;
const TIOCGWINSZ = 0x5413;
const TIOCGPTN = 0x80045430;

/** Opens a pty pair on the host's devpts; the caller opens `slavePath`. */
export function openPty(): { master: number; slavePath: string } {
  // O_CLOEXEC: the master must never leak into a container process.
  const master = check("posix_openpt", c.symbols.posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC));
  check("grantpt", c.symbols.grantpt(master));
  check("unlockpt", c.symbols.unlockpt(master));
  return { master, slavePath: String(c.symbols.ptsname(master)) };
}

/**
 * Opens a pty pair on a container's devpts: its /dev/ptmx (a link to
 * pts/ptmx) resolved in its root (root-files.ts), so the slave is the
 * container's /dev/pts/N — what `tty` prints inside. The daemon keeps the
 * master; the exec'd process opens `slavePath` after joining the mount namespace.
 */
export function openPtyIn(root: number): { master: number; slavePath: string } {
  const master = openInRoot(root, "/dev/ptmx", O_RDWR | O_NOCTTY);
  try {
    check("unlockpt", c.symbols.unlockpt(master));
    // TIOCGPTN itself, not ptsname(3): glibc may check the name against the host's /dev/pts.
    const n = Buffer.alloc(4);
    check("ioctl(TIOCGPTN)", c.symbols.ioctl(master, TIOCGPTN, ptr(n)));
    return { master, slavePath: `/dev/pts/${n.readUInt32LE(0)}` };
  } catch (e) {
    closeSync(master);
    throw e;
  }
}

/** struct winsize { rows, cols, xpixel, ypixel } of unsigned shorts. */
export function setWinsize(fd: number, rows: number, cols: number): void {
  const ws = Buffer.alloc(8);
  ws.writeUInt16LE(rows, 0);
  ws.writeUInt16LE(cols, 2);
  check("ioctl(TIOCSWINSZ)", c.symbols.ioctl(fd, TIOCSWINSZ, ptr(ws)));
}

export function getWinsize(fd: number): { rows: number; cols: number } {
  const ws = Buffer.alloc(8);
  check("ioctl(TIOCGWINSZ)", c.symbols.ioctl(fd, TIOCGWINSZ, ptr(ws)));
  return { rows: ws.readUInt16LE(0), cols: ws.readUInt16LE(2) };
}
