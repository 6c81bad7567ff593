// A tiny rootfs from busybox-static for exec driver tests, and helpers to run
// specs through the real driver and collect output.
import { spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import type { ContainerSpec, ExitStatus, RunningProcess } from "../../../src/engine/execdriver/types.ts";
import { DOCKER_DEFAULT_CAPS } from "../../../src/kernel/capabilities.ts";

export const isRoot = process.getuid?.() === 0;
export const hasBusybox = existsSync("/bin/busybox");
export const skipReason = !isRoot ? "needs root" : !hasBusybox ? "needs /bin/busybox (busybox-static)" : null;

/** Builds <dir>/image with busybox, /etc/passwd (root, nobody) and /etc/group. */
export function makeImage(dir: string): string {
  const img = join(dir, "image");
  mkdirSync(join(img, "bin"), { recursive: true });
  copyFileSync("/bin/busybox", join(img, "bin/busybox"));
  chmodSync(join(img, "bin/busybox"), 0o755);
  // `busybox --install -s` would link to the host path of busybox; relative links work inside the root.
  const r = spawnSync("/bin/busybox", ["--list"], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`busybox --list failed: ${r.stderr}`);
  for (const applet of r.stdout.split("\n").filter((a) => a && a !== "busybox")) symlinkSync("busybox", join(img, "bin", applet));
  for (const d of ["etc", "tmp", "root", "proc", "sys", "dev"]) mkdirSync(join(img, d), { recursive: true });
  chmodSync(join(img, "tmp"), 0o1777);
  writeFileSync(join(img, "etc/passwd"), "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n");
  writeFileSync(join(img, "etc/group"), "root:x:0:\nnogroup:x:65534:\n");
  return img;
}

export class Sandbox {
  readonly dir = mkdtempSync(join(tmpdir(), "ctr-execdriver-"));
  readonly image = makeImage(this.dir);
  private n = 0;

  /** A spec whose rootfs is an overlay: the image stays untouched, writes go to a per-container upper dir. */
  spec(args: string[], over: Partial<ContainerSpec> = {}): ContainerSpec {
    const id = `ctrtest-${process.pid}-${++this.n}`;
    const c = join(this.dir, id);
    for (const d of ["upper", "work", "rootfs"]) mkdirSync(join(c, d), { recursive: true });
    writeFileSync(join(c, "hostname"), "box\n");
    writeFileSync(join(c, "hosts"), "127.0.0.1 localhost\n");
    writeFileSync(join(c, "resolv.conf"), "nameserver 127.0.0.1\n");
    return {
      id,
      rootfs: { type: "overlay", source: "overlay", options: [`lowerdir=${this.image}`, `upperdir=${join(c, "upper")}`, `workdir=${join(c, "work")}`] },
      rootfsPath: join(c, "rootfs"),
      readonlyRootfs: false,
      hostname: "box",
      domainname: "",
      process: { args, env: ["PATH=/bin"], cwd: "/", user: "", terminal: false },
      capabilities: [...DOCKER_DEFAULT_CAPS],
      noNewPrivileges: true,
      privileged: false,
      mounts: [
        { destination: "/etc/hostname", type: "bind", source: join(c, "hostname"), options: ["rbind", "rw"] },
        { destination: "/etc/hosts", type: "bind", source: join(c, "hosts"), options: ["rbind", "rw"] },
        { destination: "/etc/resolv.conf", type: "bind", source: join(c, "resolv.conf"), options: ["rbind", "rw"] },
      ],
      network: { mode: "new" },
      cgroup: {},
      init: false,
      ...over,
    };
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export async function collect(r: Readable | null): Promise<string> {
  if (!r) return "";
  const parts: Buffer[] = [];
  for await (const c of r) parts.push(Buffer.from(c));
  return Buffer.concat(parts).toString();
}

export async function outcome(p: RunningProcess): Promise<{ out: string; err: string; exit: ExitStatus }> {
  p.stdin?.end();
  const [out, err, exit] = await Promise.all([collect(p.stdout), collect(p.stderr), p.exited]);
  return { out, err, exit };
}
