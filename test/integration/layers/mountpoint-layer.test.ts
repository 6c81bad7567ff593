// The shared mount-target layer (src/store/graphdriver/mountpoint-layer.ts):
// it adds exactly the targets an image lacks, never hides or changes what the
// image has (a directory keeps the image's mode, owner and mtime; a symlinked
// /etc, a file where a directory is expected, whiteouts and opaque dirs are
// read as overlayfs reads them), and mounted under the image's layers the
// merged view is the image's plus those targets. Root: owners, whiteouts
// (0:0 devices), trusted xattrs, mount.
import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, chownSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildMountpointLayer, mergedStat } from "../../../src/store/graphdriver/mountpoint-layer.ts";
import { lsetxattr, mknod, S_IFCHR } from "../../../src/kernel/fs-ffi.ts";
import { mountSpec, unmount } from "../../../src/kernel/mount.ts";
import { overlaySupported } from "../../../src/store/graphdriver/overlay2.ts";

const isRoot = process.getuid?.() === 0;
if (!isRoot) console.warn("skipping mount-target layer tests: need root (owners, whiteouts, trusted xattrs, mount)");
const work = mkdtempSync(join(tmpdir(), "ctr-mountpoints-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
let n = 0;

/** A fresh set of layer dirs (top first), each made by its builder. */
function layers(...builders: ((dir: string) => void)[]): string[] {
  const base = join(work, String(n++));
  return builders.map((b, i) => {
    const d = join(base, `l${i}`);
    mkdirSync(d, { recursive: true });
    b(d);
    return d;
  });
}

/** Every path below `dir`, "/" after directories, sorted. */
function tree(dir: string, rel = ""): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(dir, rel)).sort()) {
    const r = rel ? `${rel}/${name}` : name;
    const isDir = lstatSync(join(dir, r)).isDirectory();
    out.push(isDir ? `${r}/` : r);
    if (isDir) out.push(...tree(dir, r));
  }
  return out;
}

const whiteout = (path: string) => mknod(path, S_IFCHR, 0, 0, 0);
const OLD = new Date("2020-02-02T00:00:00Z");

describe.skipIf(!isRoot)("mount-target layer", () => {
  test("it is made under the temp prefix given (the layer store's .tmp) and renamed from there", () => {
    const lowers = layers((d) => mkdirSync(join(d, "bin")));
    const home = join(work, `mphome${n++}`);
    const tmp = join(home, ".tmp");
    mkdirSync(tmp, { recursive: true });
    mkdirSync(join(home, "layer"));
    const dest = join(home, "layer", "mountpoints");
    buildMountpointLayer(dest, lowers, join(tmp, "mountpoints-x-"));
    expect(readdirSync(join(home, "layer"))).toEqual(["mountpoints"]);
    expect(readdirSync(tmp)).toEqual([]);
    expect(tree(dest)).toContain("proc/");
  });

  test("an image without them gets all six, 0755 root, empty", () => {
    const lowers = layers((d) => mkdirSync(join(d, "bin")));
    const dest = join(work, `mp${n++}`);
    buildMountpointLayer(dest, lowers, `${dest}.tmp-`);
    expect(tree(dest)).toEqual(["dev/", "etc/", "etc/hostname", "etc/hosts", "etc/resolv.conf", "proc/", "sys/"]);
    for (const p of ["dev", "etc", "etc/hosts", "proc"]) {
      const st = lstatSync(join(dest, p));
      expect([st.mode & 0o7777, st.uid, st.gid]).toEqual([0o755, 0, 0]);
    }
    expect(statSync(join(dest, "etc/hosts")).size).toBe(0);
  });

  test("what the image has stays the image's: its /etc's mode, owner and mtime; its own /etc/hosts and /proc are not added", () => {
    const lowers = layers((d) => {
      mkdirSync(join(d, "etc"));
      writeFileSync(join(d, "etc/hosts"), "mine\n");
      mkdirSync(join(d, "proc"));
      chownSync(join(d, "etc"), 7, 8);
      chmodSync(join(d, "etc"), 0o2750);
      utimesSync(join(d, "etc"), OLD, OLD);
    });
    const dest = join(work, `mp${n++}`);
    buildMountpointLayer(dest, lowers, `${dest}.tmp-`);
    expect(tree(dest)).toEqual(["dev/", "etc/", "etc/hostname", "etc/resolv.conf", "sys/"]);
    const st = lstatSync(join(dest, "etc"));
    expect([st.mode & 0o7777, st.uid, st.gid, st.mtime.getTime()]).toEqual([0o2750, 7, 8, OLD.getTime()]);
  });

  test("nothing under a symlinked /etc (the runtime resolves it inside the root, as before), nor a dir over a file", () => {
    const lowers = layers((d) => {
      symlinkSync("../../../host-etc", join(d, "etc"));
      writeFileSync(join(d, "proc"), "");
    });
    const dest = join(work, `mp${n++}`);
    buildMountpointLayer(dest, lowers, `${dest}.tmp-`);
    expect(tree(dest)).toEqual(["dev/", "sys/"]);
    expect(() => lstatSync(join(work, "host-etc"))).toThrow();
  });

  test("whiteouts and opaque directories hide what is below them, as overlayfs does", () => {
    const lowers = layers(
      (d) => {
        mkdirSync(join(d, "etc"));
        whiteout(join(d, "etc/hosts"));
        // A whited-out /dev hides the lower one.
        whiteout(join(d, "dev"));
      },
      (d) => {
        mkdirSync(join(d, "etc"));
        writeFileSync(join(d, "etc/hosts"), "lower\n");
        writeFileSync(join(d, "etc/hostname"), "lower\n");
        mkdirSync(join(d, "dev"));
        mkdirSync(join(d, "sys"));
      },
    );
    expect(mergedStat(lowers, "etc/hosts")).toBeNull();
    expect(mergedStat(lowers, "etc/hostname")?.isFile()).toBe(true);
    const dest = join(work, `mp${n++}`);
    buildMountpointLayer(dest, lowers, `${dest}.tmp-`);
    expect(tree(dest)).toEqual(["dev/", "etc/", "etc/hosts", "etc/resolv.conf", "proc/"]);

    const opaque = layers(
      (d) => {
        mkdirSync(join(d, "etc"));
        lsetxattr(join(d, "etc"), "trusted.overlay.opaque", Buffer.from("y"));
      },
      (d) => {
        mkdirSync(join(d, "etc"));
        writeFileSync(join(d, "etc/hosts"), "hidden\n");
      },
    );
    expect(mergedStat(opaque, "etc/hosts")).toBeNull();
    // A layer without the directory does not stop the merge below it.
    const gap = layers(
      (d) => mkdirSync(join(d, "etc")),
      (d) => mkdirSync(join(d, "bin")),
      (d) => {
        mkdirSync(join(d, "etc"));
        writeFileSync(join(d, "etc/hosts"), "deep\n");
      },
    );
    expect(mergedStat(gap, "etc/hosts")?.isFile()).toBe(true);
  });

  test.skipIf(!overlaySupported(work))("mounted under the image's layers: the image's view plus the targets, /etc as the image has it", () => {
    const lowers = layers((d) => {
      mkdirSync(join(d, "etc"));
      writeFileSync(join(d, "etc/passwd"), "root:x:0:0::/:/bin/sh\n");
      chmodSync(join(d, "etc"), 0o750);
      utimesSync(join(d, "etc"), OLD, OLD);
      mkdirSync(join(d, "bin"));
    });
    const dest = join(work, `mp${n++}`);
    buildMountpointLayer(dest, lowers, `${dest}.tmp-`);
    const base = join(work, `ov${n++}`);
    for (const d of ["upper", "work", "merged"]) mkdirSync(join(base, d), { recursive: true });
    mountSpec({ type: "overlay", source: "overlay", options: [`lowerdir=${[dest, ...lowers].join(":")}`, `upperdir=${base}/upper`, `workdir=${base}/work`] }, join(base, "merged"));
    try {
      const m = join(base, "merged");
      expect(tree(m)).toEqual(["bin/", "dev/", "etc/", "etc/hostname", "etc/hosts", "etc/passwd", "etc/resolv.conf", "proc/", "sys/"]);
      const st = statSync(join(m, "etc"));
      expect([st.mode & 0o7777, st.mtime.getTime()]).toEqual([0o750, OLD.getTime()]);
      expect(readFileSync(join(m, "etc/passwd"), "utf8")).toBe("root:x:0:0::/:/bin/sh\n");
      // Nothing of it lands in the rw layer until written.
      expect(tree(join(base, "upper"))).toEqual([]);
    } finally {
      unmount(join(base, "merged"));
    }
  });
});
