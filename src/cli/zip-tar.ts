// `ctr import x.zip`: a zip of a root filesystem, unpacked with yauzl (a
// small, well-kept pure-JS reader that bundles into the binary) into a temp
// dir and streamed on as a tar. Entry names that climb out (`..`, absolute)
// are refused, like a hostile tar.
import { mkdirSync, mkdtempSync, rmSync, createWriteStream } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, posix } from "node:path";
import { pipeline } from "node:stream/promises";
import yauzl from "yauzl";
import { exportTar } from "../store/graphdriver/diff-tar.ts";
import { iterate, toReadable } from "../store/tar/byte-source.ts";
import { CliExit } from "./context.ts";

function safeName(name: string): string {
  const n = posix.normalize(name);
  if (n.startsWith("/") || n === ".." || n.startsWith("../")) throw new CliExit(1, `Error: zip entry ${JSON.stringify(name)} points outside the archive`);
  return n;
}

async function unzip(file: string, dest: string): Promise<void> {
  const zip = await new Promise<yauzl.ZipFile>((res, rej) => yauzl.open(file, { lazyEntries: true }, (e, z) => (e ? rej(e) : res(z!))));
  await new Promise<void>((resolve, reject) => {
    zip.on("error", reject);
    zip.on("end", () => resolve());
    zip.on("entry", (entry: yauzl.Entry) => {
      let name: string;
      try {
        name = safeName(entry.fileName);
      } catch (e) {
        zip.close();
        return reject(e);
      }
      const target = join(dest, name);
      if (entry.fileName.endsWith("/")) {
        mkdirSync(target, { recursive: true });
        return zip.readEntry();
      }
      mkdirSync(dirname(target), { recursive: true });
      zip.openReadStream(entry, (err, stream) => {
        if (err || !stream) return reject(err ?? new Error(`cannot read ${entry.fileName}`));
        pipeline(stream, createWriteStream(target, { mode: (entry.externalFileAttributes >>> 16) & 0o777 || 0o644 })).then(() => zip.readEntry(), reject);
      });
    });
    zip.readEntry();
  });
}

export async function zipToTar(file: string): Promise<ReadableStream<Uint8Array>> {
  const dir = mkdtempSync(join(tmpdir(), "ctr-zip-"));
  try {
    await unzip(file, dir);
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  async function* cleaned(): AsyncGenerator<Uint8Array> {
    try {
      yield* iterate(exportTar(dir));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return toReadable(cleaned());
}
