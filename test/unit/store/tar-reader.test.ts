// Our tar reader: the formats tar-stream read for us, at any chunking, and bodies that
// get views of the pushed chunks (so their life is known: owned-buffers.ts).
import { expect, test } from "bun:test";
import { pack, type Header } from "tar-stream";
import { TarReader, type EntryBody, type TarHeader } from "../../../src/store/tar/tar-reader.ts";
import { TarFormatError } from "../../../src/store/tar/errors.ts";

type Spec = Partial<Header> & { name: string; body?: Uint8Array | string };

async function tar(entries: Spec[]): Promise<Uint8Array> {
  const p = pack();
  const chunks: Uint8Array[] = [];
  const all = (async () => {
    for await (const c of p) chunks.push(c as Uint8Array);
  })();
  for (const { body, ...h } of entries) {
    await new Promise<void>((res, rej) => p.entry({ mtime: new Date(1_000_000_000_000), ...h } as Header, body ?? "", (e) => (e ? rej(e) : res())));
  }
  p.finalize();
  await all;
  return Buffer.concat(chunks);
}

interface Read {
  header: TarHeader;
  body: Buffer;
  ended: boolean;
}

/** Reads `bytes` pushed in pieces of `step`, each a buffer of its own; records what bodies got. */
async function read(bytes: Uint8Array, step = bytes.byteLength): Promise<{ entries: Read[]; pushed: Uint8Array[]; pieces: Uint8Array[] }> {
  const entries: Read[] = [];
  const pieces: Uint8Array[] = [];
  const r = new TarReader((h) => {
    const e: Read = { header: h, body: Buffer.alloc(0), ended: false };
    entries.push(e);
    const body: EntryBody = {
      write(p) {
        pieces.push(p);
        e.body = Buffer.concat([e.body, p]);
      },
      end() {
        e.ended = true;
      },
      abort() {},
    };
    return body;
  });
  const pushed: Uint8Array[] = [];
  for (let i = 0; i < bytes.byteLength; i += step) {
    const c = new Uint8Array(bytes.subarray(i, i + step));
    pushed.push(c);
    await r.push(c);
  }
  r.end();
  return { entries, pushed, pieces };
}

const summary = (es: Read[]) =>
  es.map((e) => ({ name: e.header.name, type: e.header.type, size: e.header.size, linkname: e.header.linkname, body: e.body.toString("latin1"), ended: e.ended }));

test("entries, their headers and contents come out the same at every chunking, and bodies get views of the chunks", async () => {
  const big = Buffer.alloc(3000, "b");
  const bytes = await tar([
    { name: "d", type: "directory", mode: 0o755 },
    { name: "d/f", body: "hello", mode: 0o4755, uid: 1000, gid: 2000 },
    { name: "d/big", body: big },
    { name: "d/l", type: "symlink", linkname: "f" },
    { name: "d/h", type: "link", linkname: "d/f" },
    { name: "dev/null", type: "character-device", devmajor: 1, devminor: 3 },
    { name: "empty", body: "" },
  ]);
  const want = summary((await read(bytes)).entries);
  expect(want).toEqual([
    { name: "d", type: "directory", size: 0, linkname: null, body: "", ended: true },
    { name: "d/f", type: "file", size: 5, linkname: null, body: "hello", ended: true },
    { name: "d/big", type: "file", size: 3000, linkname: null, body: big.toString("latin1"), ended: true },
    { name: "d/l", type: "symlink", size: 0, linkname: "f", body: "", ended: true },
    { name: "d/h", type: "link", size: 0, linkname: "d/f", body: "", ended: true },
    { name: "dev/null", type: "character-device", size: 0, linkname: null, body: "", ended: true },
    { name: "empty", type: "file", size: 0, linkname: null, body: "", ended: true },
  ]);
  const f = (await read(bytes)).entries[1]!.header;
  expect([f.mode, f.uid, f.gid, f.mtime]).toEqual([0o4755, 1000, 2000, 1_000_000_000]);
  expect((await read(bytes)).entries[5]!.header).toMatchObject({ devmajor: 1, devminor: 3 });
  for (const step of [1, 7, 100, 511, 512, 513, 1000, 4096]) {
    const { entries, pushed, pieces } = await read(bytes, step);
    expect(summary(entries)).toEqual(want);
    const buffers = new Set(pushed.map((c) => c.buffer));
    for (const p of pieces) expect(buffers.has(p.buffer)).toBe(true); // a view, not a copy
  }
});

test("pax records: long path and link, size, binary xattr values byte-exact; a global header merges into the next", async () => {
  const long = `${"a".repeat(120)}/${"b".repeat(120)}`;
  const cap = Buffer.from("0100000200200000000000000000000000000000", "hex");
  const bytes = await tar([
    { name: "x", pax: { path: long, "SCHILY.xattr.user.note": "h\u00e9llo" }, body: "1" },
    { name: "y", type: "symlink", linkname: "short", pax: { linkpath: "t".repeat(300) } },
  ]);
  const { entries } = await read(bytes, 300);
  expect(entries.map((e) => [e.header.name, e.header.linkname])).toEqual([
    [long, null],
    ["y", "t".repeat(300)],
  ]);
  // tar-stream's pack writes pax values as UTF-8 text; Go's archive/tar writes raw bytes: both come back byte-exact.
  expect(Buffer.from(entries[0]!.header.pax!["SCHILY.xattr.user.note"]!, "latin1").toString("utf8")).toBe("h\u00e9llo");

  const rec = (k: string, v: Buffer) => {
    const body = Buffer.concat([Buffer.from(` ${k}=`), v, Buffer.from("\n")]);
    let n = body.length + 1;
    while (String(n).length + body.length !== n) n++;
    return Buffer.concat([Buffer.from(String(n)), body]);
  };
  const raw = Buffer.concat([rec("SCHILY.xattr.security.capability", cap), rec("size", Buffer.from("4"))]);
  const global = Buffer.concat([rec("comment", Buffer.from("g")), rec("mtime", Buffer.from("5"))]);
  const ustar = (b: Buffer) => b.write("ustar\x0000", 257);
  const bytes2 = Buffer.concat([
    gnuHeader("pax_global_header", "g", global.length, ustar),
    padded(global),
    gnuHeader("PaxHeaders/z", "x", raw.length, ustar),
    padded(raw),
    gnuHeader("z", "0", 0, ustar), // the size comes from the pax record
    padded("zzzz"),
    Buffer.alloc(1024),
  ]);
  const z = (await read(bytes2, 64)).entries.at(-1)!;
  expect(z.header.size).toBe(4);
  expect(z.body.toString()).toBe("zzzz");
  expect(Buffer.from(z.header.pax!["SCHILY.xattr.security.capability"]!, "latin1").equals(cap)).toBe(true);
  expect(z.header.pax!.comment).toBe("g");
  expect(z.header.pax!.mtime).toBe("5");
});

/** A header block as GNU tar writes it (`patch` may change it), with a valid checksum. */
function gnuHeader(name: string, typeflag: string, size: number, patch?: (b: Buffer) => void): Buffer {
  const b = Buffer.alloc(512);
  b.write(name, 0);
  b.write("0000644\0", 100);
  b.write("0000000\0", 108);
  b.write("0000000\0", 116);
  b.write(`${size.toString(8).padStart(11, "0")}\0`, 124);
  b.write("00000000000\0", 136);
  b.write(typeflag, 156);
  b.write("ustar  \0", 257);
  patch?.(b);
  checksum(b);
  return b;
}
function checksum(b: Buffer): void {
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (const x of b) sum += x;
  b.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148);
}
const padded = (s: string | Buffer) => {
  const b = Buffer.from(s);
  return Buffer.concat([b, Buffer.alloc((512 - (b.length % 512)) % 512)]);
};

test("GNU long names and long links ('L', 'K'), base-256 numbers, a trailing slash making a directory", async () => {
  const name = "n".repeat(150);
  const link = "k".repeat(150);
  const bytes = Buffer.concat([
    gnuHeader("././@LongLink", "L", name.length + 1),
    padded(`${name}\0`),
    gnuHeader("././@LongLink", "K", link.length + 1),
    padded(`${link}\0`),
    gnuHeader(name.slice(0, 100), "2", 0, (b) => b.write(link.slice(0, 100), 157)),
    gnuHeader("big", "0", 0, (b) => {
      b.fill(0, 108, 116);
      b[108] = 0x80;
      b.writeUInt32BE(3_000_000, 112); // uid 3000000, base-256
    }),
    gnuHeader("olddir/", "\0", 0),
    Buffer.alloc(1024),
  ]);
  const { entries } = await read(bytes, 100);
  expect(entries.map((e) => [e.header.name, e.header.type, e.header.linkname])).toEqual([
    [name, "symlink", link],
    ["big", "file", null],
    ["olddir/", "directory", null],
  ]);
  expect(entries[1]!.header.uid).toBe(3_000_000);
});

test("a directory's size is not read as content, and a type we do not know comes out as null", async () => {
  const bytes = Buffer.concat([gnuHeader("sparse", "S", 3), padded("abc"), gnuHeader("dir", "5", 0), Buffer.alloc(1024)]);
  const { entries } = await read(bytes);
  expect(entries.map((e) => [e.header.name, e.header.type, e.body.toString()])).toEqual([
    ["sparse", null, "abc"],
    ["dir", "directory", ""],
  ]);
});

test("a bad checksum, an unknown format, a cut tar and an oversized long header are refused", async () => {
  const good = gnuHeader("f", "0", 3);
  const bad = Buffer.from(good);
  bad[0] = 0x67;
  await expect(read(Buffer.concat([bad, padded("abc")]))).rejects.toThrow("Invalid tar header");
  const v7 = gnuHeader("f", "0", 0, (b) => b.fill(0, 257, 265));
  await expect(read(v7)).rejects.toThrow("unknown format");
  await expect(read(Buffer.concat([good, Buffer.from("ab")]))).rejects.toThrow("Unexpected end of data");
  await expect(read(good.subarray(0, 300))).rejects.toBeInstanceOf(TarFormatError);
  await expect(read(gnuHeader("././@LongLink", "x", 5 << 20))).rejects.toThrow("Header exceeds max size");
  // The end: zero blocks, with or without the second, and nothing after the last entry's padding.
  expect((await read(Buffer.concat([good, padded("abc")]))).entries.length).toBe(1);
});

test("a size that is no number, negative or in a base-256 form that is not one is refused, in a header or a pax record", async () => {
  const sizeField = (bytes: number[] | string) => (b: Buffer) => (typeof bytes === "string" ? b.write(bytes, 124) : b.set(bytes, 124));
  const refused = [
    gnuHeader("f", "0", 0, sizeField("zzzzzzzzzzz\0")),
    gnuHeader("f", "0", 0, sizeField([0xff, ...Array(10).fill(0xff), 0xfe])), // two's complement -2
    gnuHeader("f", "0", 0, sizeField([0x81, ...Array(11).fill(0)])), // neither 0x80 nor 0xff
    gnuHeader("././@LongLink", "L", 0, sizeField("-1\0")),
  ];
  for (const h of refused) await expect(read(Buffer.concat([h, Buffer.alloc(1024)]))).rejects.toThrow("Invalid header");
  for (const size of ["-1", "abc"]) {
    const rec = paxRecord("size", size);
    const bytes = Buffer.concat([gnuHeader("pax", "x", rec.length), padded(rec), gnuHeader("f", "0", 0), Buffer.alloc(1024)]);
    await expect(read(bytes)).rejects.toThrow("Invalid header");
  }
  // Base-256 itself is read (GNU tar writes it for sizes of 8 GiB and more).
  const big = gnuHeader("f", "0", 0, sizeField([0x80, ...Array(10).fill(0), 3]));
  expect((await read(Buffer.concat([big, padded("abc"), Buffer.alloc(1024)]))).entries.map((e) => e.body.toString())).toEqual(["abc"]);
});

/** One pax record "%d %s=%s\n" (its length counts itself). */
function paxRecord(key: string, value: string): Buffer {
  const rest = ` ${key}=${value}\n`;
  let n = rest.length + 1;
  while (`${n}`.length + rest.length !== n) n++;
  return Buffer.from(`${n}${rest}`);
}

test("a body's write may wait: the reader waits for it before going on", async () => {
  const bytes = await tar([{ name: "a", body: "x".repeat(2000) }, { name: "b", body: "y" }]);
  const order: string[] = [];
  const r = new TarReader((h) => ({
    async write(p) {
      await Bun.sleep(1);
      order.push(`${h.name}:${p.byteLength}`);
    },
    end() {
      order.push(`${h.name}:end`);
    },
    abort() {},
  }));
  for (let i = 0; i < bytes.byteLength; i += 1024) await r.push(new Uint8Array(bytes.subarray(i, i + 1024)));
  r.end();
  expect(order).toEqual(["a:512", "a:1024", "a:464", "a:end", "b:1", "b:end"]);
});
