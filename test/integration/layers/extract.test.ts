// Extraction against the real kernel (root: owners, devices, trusted.* xattrs).
// The source tree is made on disk, archived by GNU tar (gnu and pax formats),
// and our extraction must reproduce it exactly — as GNU tar's own does.
import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, lstatSync, readFileSync, readlinkSync, statSync, linkSync, lchownSync, lutimesSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { extractLayer } from "../../../src/store/tar/extract.ts";
import { lgetxattr, lsetxattr, mknod, S_IFBLK, S_IFCHR, S_IFIFO } from "../../../src/kernel/fs-ffi.ts";
import { snapshot } from "./tree-snapshot.ts";
import { buildTar, collect, sha256 } from "./tar-build.ts";
import { DiffIdMismatchError, LayerRejectedError } from "../../../src/store/tar/errors.ts";
import { exportTar } from "../../../src/store/graphdriver/diff-tar.ts";
import { decompressStream } from "../../../src/store/tar/decompress.ts";
import { gzipSync, zstdCompressSync } from "node:zlib";
import { randomBytes } from "node:crypto";
import { own } from "../../../src/store/owned-buffers.ts";

const isRoot = process.getuid?.() === 0;
const hasTar = Bun.which("tar") !== null;
if (!isRoot || !hasTar) console.warn("skipping layer extraction integration tests: need root and GNU tar");

const work = mkdtempSync(join(tmpdir(), "ctr-extract-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

// security.capability v2 for cap_net_raw+ep (linux/capability.h vfs_cap_data).
const CAP_NET_RAW_EP = Buffer.from("0100000200200000000000000000000000000000", "hex");
const T = 1_000_000_000;

function makeSource(root: string): void {
  mkdirSync(root);
  const p = (r: string) => join(root, r);
  mkdirSync(p("bin"));
  writeFileSync(p("bin/ping"), "ping binary");
  lchownSync(p("bin/ping"), 1000, 2000);
  chmodSync(p("bin/ping"), 0o4755);
  lsetxattr(p("bin/ping"), "security.capability", CAP_NET_RAW_EP);
  lsetxattr(p("bin/ping"), "user.note", Buffer.from("h\u00e9llo"));
  linkSync(p("bin/ping"), p("bin/ping6"));
  symlinkSync("ping", p("bin/pong"));
  lutimesSync(p("bin/pong"), T + 5, T + 5);
  mkdirSync(p("tmp"));
  chmodSync(p("tmp"), 0o1777);
  mkdirSync(p("srv"));
  lchownSync(p("srv"), 0, 50);
  chmodSync(p("srv"), 0o2775);
  mkdirSync(p("dev"));
  mknod(p("dev/null"), S_IFCHR, 0o666, 1, 3);
  mknod(p("dev/loop0"), S_IFBLK, 0o660, 7, 0);
  mknod(p("dev/bigminor"), S_IFCHR, 0o600, 4095, 70000);
  mknod(p("dev/fifo"), S_IFIFO, 0o644);
  const long = "d".repeat(90) + "/" + "e".repeat(90) + "/" + "f".repeat(120);
  mkdirSync(p(long), { recursive: true });
  writeFileSync(p(`${long}/${"g".repeat(150)}.txt`), "deep");
  symlinkSync("x".repeat(200), p(`${long}/longlink`));
  lutimesSync(p(`${long}/longlink`), T, T);
  writeFileSync(p("big-uid"), "");
  lchownSync(p("big-uid"), 3_000_000, 3_000_000);
  // Directory mtimes last, as the tree is final now.
  for (const d of ["bin", "tmp", "srv", "dev", long, long.split("/").slice(0, 2).join("/"), long.split("/")[0]!, "."]) {
    lutimesSync(p(d), T + 100, T + 100);
  }
  for (const f of ["bin/ping", "dev/null", "dev/loop0", "dev/bigminor", "dev/fifo", `${long}/${"g".repeat(150)}.txt`, "big-uid"]) {
    lutimesSync(p(f), T + 7, T + 7);
  }
}

async function gnuTar(src: string, format: "gnu" | "posix"): Promise<Buffer> {
  const p = Bun.spawn(["tar", `--format=${format}`, "--xattrs", "--xattrs-include=*", "--numeric-owner", "-C", src, "-cf", "-", "."], { stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(p.stdout).arrayBuffer(), new Response(p.stderr).text(), p.exited]);
  if (code !== 0) throw new Error(`tar failed: ${err}`);
  return Buffer.from(out);
}

function fresh(name: string): string {
  const d = join(work, name);
  mkdirSync(d, { recursive: true });
  return d;
}

describe.skipIf(!isRoot || !hasTar)("extractLayer: every entry type", () => {
  const src = join(work, "src");
  makeSource(src);
  const want = snapshot(src);

  for (const format of ["gnu", "posix"] as const) {
    test(`reproduces the tree from a GNU tar --format=${format} archive, like GNU tar does`, async () => {
      const tar = await gnuTar(src, format);
      const ours = fresh(`ours-${format}`);
      const res = await extractLayer([tar], ours, { whiteouts: "apply", expectedDiffId: sha256(tar) });
      expect(res.diffId).toBe(sha256(tar));
      expect(res.tarSize).toBe(tar.length);
      // As moby's directory.Size: regular files' bytes, hard links once, symlinks the length of their target.
      expect(res.size).toBe("ping binary".length + "deep".length + "ping".length + 200);
      expect(snapshot(ours)).toEqual(want);
      const theirs = fresh(`gnu-${format}`);
      const p = Bun.spawn(["tar", "--xattrs", "--xattrs-include=*", "--numeric-owner", "-xpf", "-", "-C", theirs], { stdin: tar });
      expect(await p.exited).toBe(0);
      expect(snapshot(theirs)).toEqual(snapshot(ours));
    });
  }

  test("our exportTar round-trips the tree byte-exact, binary xattrs included", async () => {
    const tar = await collect(exportTar(src));
    const again = await collect(exportTar(src));
    expect(sha256(again)).toBe(sha256(tar)); // reproducible
    const out = fresh("roundtrip");
    await extractLayer([tar], out, { whiteouts: "apply" });
    const { ".": _a, ...wantNoRoot } = want;
    const { ".": _b, ...gotNoRoot } = snapshot(out);
    expect(gotNoRoot).toEqual(wantNoRoot);
    expect(lgetxattr(join(out, "bin/ping"), "security.capability")).toEqual(CAP_NET_RAW_EP);
    // GNU tar reads what we write.
    const theirs = fresh("gnu-reads-ours");
    const p = Bun.spawn(["tar", "--xattrs", "--xattrs-include=*", "--numeric-owner", "-xpf", "-", "-C", theirs], { stdin: tar, stderr: "pipe" });
    expect(await p.exited).toBe(0);
    const { ".": _c, ...theirsNoRoot } = snapshot(theirs);
    expect(theirsNoRoot).toEqual(wantNoRoot);
  });

  test("a diff id mismatch is refused", async () => {
    const tar = await buildTar([{ name: "f", body: "x" }]);
    const out = fresh("mismatch");
    const p = extractLayer([tar], out, { whiteouts: "apply", expectedDiffId: `sha256:${"0".repeat(64)}` });
    await expect(p).rejects.toBeInstanceOf(DiffIdMismatchError);
  });

  test("decompressStream sniffs gzip, zstd and plain", async () => {
    const tar = await buildTar([{ name: "f", body: "x".repeat(100_000) }]);
    for (const blob of [tar, gzipSync(tar), zstdCompressSync(tar)]) {
      const chunks = [blob.subarray(0, 2), blob.subarray(2, 1000), blob.subarray(1000)];
      expect(sha256(await collect(decompressStream(chunks)))).toBe(sha256(tar));
    }
  });
});

describe.skipIf(!isRoot)("extractLayer: an entry over one before it", () => {
  test("the later entry wins: file over file, directory over directory, file over symlink, symlink over directory, device over file, fifo over directory", async () => {
    const out = fresh("replaced");
    await extractLayer(
      [
        await buildTar([
          { name: "a", body: "first" },
          { name: "a", body: "second", mode: 0o600 },
          { name: "b", type: "directory", mode: 0o755 },
          { name: "b/keep", body: "k" },
          { name: "b", type: "directory", mode: 0o700 },
          { name: "c", type: "symlink", linkname: "a" },
          { name: "c", body: "c is a file" },
          { name: "d/x", body: "x" },
          { name: "d", type: "symlink", linkname: "b" },
          { name: "big", body: "z".repeat(200_000) },
          { name: "big", body: "y".repeat(100) },
          { name: "dev0", body: "a file first" },
          { name: "dev0", type: "character-device", devmajor: 1, devminor: 3 },
          { name: "p/q", body: "q" },
          { name: "p", type: "fifo" },
        ]),
      ],
      out,
      { whiteouts: "apply" },
    );
    expect(readFileSync(join(out, "a"), "utf8")).toBe("second");
    expect(statSync(join(out, "a")).mode & 0o777).toBe(0o600);
    expect(readdirSync(join(out, "b"))).toEqual(["keep"]);
    expect(statSync(join(out, "b")).mode & 0o777).toBe(0o700);
    expect(lstatSync(join(out, "c")).isFile()).toBe(true);
    expect(readFileSync(join(out, "c"), "utf8")).toBe("c is a file");
    expect(readlinkSync(join(out, "d"))).toBe("b");
    expect(readFileSync(join(out, "big"), "utf8")).toBe("y".repeat(100));
    expect(lstatSync(join(out, "dev0")).isCharacterDevice()).toBe(true);
    expect(lstatSync(join(out, "p")).isFIFO()).toBe(true);
  });
});

describe.skipIf(!isRoot)("extractLayer: the chunks it reads", () => {
  test("owned chunks are freed once parsed and their file bytes written; the files are right", async () => {
    const big = randomBytes(3 << 19).toString("hex");
    const tar = await buildTar([
      { name: "small", body: "s".repeat(700) },
      { name: "big", body: big },
      { name: "tail", body: "t" },
    ]);
    const chunks: Uint8Array[] = [];
    for (let i = 0; i < tar.byteLength; i += 100_000) chunks.push(new Uint8Array(tar.subarray(i, i + 100_000)));
    for (const c of chunks) expect(own(c, 1)).toBe(true);
    const out = fresh("owned-chunks");
    const res = await extractLayer(chunks, out, { whiteouts: "apply" });
    expect(res.diffId).toBe(sha256(tar));
    expect(chunks.every((c) => c.byteLength === 0)).toBe(true);
    expect(readFileSync(join(out, "small"), "utf8")).toBe("s".repeat(700));
    expect(readFileSync(join(out, "big"), "utf8") === big).toBe(true);
    expect(readFileSync(join(out, "tail"), "utf8")).toBe("t");
  });
});

describe.skipIf(!isRoot)("extractLayer: whiteouts", () => {
  const layer = () =>
    buildTar([
      { name: "a", type: "directory" },
      { name: "a/.wh.gone", body: "" },
      { name: "b", type: "directory" },
      { name: "b/.wh..wh..opq", body: "" },
      { name: "b/new", body: "n" },
      { name: "c/.wh..wh.plnk", body: "" },
    ]);

  test("overlay mode writes 0:0 char devices and the opaque xattr", async () => {
    const out = fresh("wh-overlay");
    await extractLayer([await layer()], out, { whiteouts: "overlay" });
    const s = snapshot(out);
    expect(s["a/gone"]?.mode).toBe((0o020000).toString(8));
    expect(s["a/gone"]?.rdev).toBe(0);
    expect(s["b"]?.xattrs).toEqual({ "trusted.overlay.opaque": Buffer.from("y").toString("hex") });
    expect(readdirSync(join(out, "b"))).toEqual(["new"]);
    expect(existsSync(join(out, "c"))).toBe(false); // AUFS metadata is skipped outright
  });

  test("apply mode deletes the target and empties the opaque dir except this layer's entries", async () => {
    const out = fresh("wh-apply");
    mkdirSync(join(out, "a/gone/sub"), { recursive: true });
    writeFileSync(join(out, "a/keep"), "k");
    mkdirSync(join(out, "b/old"), { recursive: true });
    writeFileSync(join(out, "b/old/f"), "o");
    await extractLayer([await layer()], out, { whiteouts: "apply" });
    expect(readdirSync(join(out, "a"))).toEqual(["keep"]);
    expect(readdirSync(join(out, "b"))).toEqual(["new"]);
  });
});

describe.skipIf(!isRoot)("extractLayer: hostile layers are refused", () => {
  const outside = join(work, "outside");
  mkdirSync(outside, { recursive: true });
  writeFileSync(join(outside, "secret"), "s");

  const cases: [string, Parameters<typeof buildTar>[0]][] = [
    ["dot-dot", [{ name: "../evil", body: "x" }]],
    ["dot-dot in the middle", [{ name: "a/../../evil", body: "x" }]],
    ["absolute", [{ name: join(outside, "evil"), body: "x" }]],
    ["write through a symlink planted earlier", [{ name: "s", type: "symlink", linkname: outside }, { name: "s/evil", body: "x" }]],
    ["relative symlink escape", [{ name: "s", type: "symlink", linkname: "../../outside" }, { name: "s/evil", body: "x" }]],
    ["mkdir through a symlink", [{ name: "s", type: "symlink", linkname: outside }, { name: "s/d/evil", type: "directory" }]],
    ["whiteout through a symlink", [{ name: "s", type: "symlink", linkname: outside }, { name: "s/.wh.secret", body: "" }]],
    ["opaque through a symlink", [{ name: "s", type: "symlink", linkname: outside }, { name: "s/.wh..wh..opq", body: "" }]],
    ["hard link out with ..", [{ name: "h", type: "link", linkname: "../outside/secret" }]],
    ["hard link to an absolute path", [{ name: "h", type: "link", linkname: join(outside, "secret") }]],
    ["hard link through a symlink", [{ name: "s", type: "symlink", linkname: outside }, { name: "h", type: "link", linkname: "s/secret" }]],
    // What is at a link's path goes before the link is made: its target cannot be that, or below it.
    ["a hard link to itself", [{ name: "a", body: "x" }, { name: "a", type: "link", linkname: "a" }]],
    ["a hard link over the directory holding its target", [{ name: "d/f", body: "x" }, { name: "d", type: "link", linkname: "d/f" }]],
    // Directories seen once are not looked at again until something removes them: these must still be caught.
    ["a directory replaced by a symlink, then written through", [{ name: "d", type: "directory" }, { name: "d/x", body: "x" }, { name: "d", type: "symlink", linkname: outside }, { name: "d/evil", body: "x" }]],
    ["a directory whited out, a symlink in its place, then written through", [{ name: "d/x", body: "x" }, { name: ".wh.d", body: "" }, { name: "d", type: "symlink", linkname: outside }, { name: "d/evil", body: "x" }]],
    ["a directory replaced by a file, then written under", [{ name: "d/x", body: "x" }, { name: "d", body: "now a file" }, { name: "d/evil", body: "x" }]],
  ];

  for (const [what, entries] of cases) {
    for (const mode of ["overlay", "apply"] as const) {
      test(`${what} (${mode})`, async () => {
        const before = snapshot(outside);
        const out = fresh(`hostile-${what.replace(/\W+/g, "-")}-${mode}`);
        const p = extractLayer([await buildTar(entries)], out, { whiteouts: mode });
        await expect(p).rejects.toBeInstanceOf(LayerRejectedError);
        expect(snapshot(outside)).toEqual(before);
        expect(existsSync(join(work, "evil"))).toBe(false);
      });
    }
  }

  test("the error names the entry", async () => {
    const out = fresh("hostile-message");
    const p = extractLayer([await buildTar([{ name: "x/../../evil", body: "x" }])], out, { whiteouts: "apply" });
    await expect(p).rejects.toThrow('entry "x/../../evil"');
  });
});
