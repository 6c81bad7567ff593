// Builds test layer tars in memory with tar-stream's pack.
import { pack, type Header } from "tar-stream";

export type Spec = Partial<Header> & { name: string; body?: string; pax?: Record<string, string> };

export async function buildTar(entries: Spec[]): Promise<Buffer> {
  const p = pack();
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const c of p) chunks.push(c as Buffer);
  })();
  for (const e of entries) {
    const { body, ...h } = e;
    const header = { mode: h.type === "directory" ? 0o755 : 0o644, mtime: new Date(1_000_000_000_000), ...h } as Header;
    await new Promise<void>((resolve, reject) =>
      p.entry(header, body ?? "", (err) => (err ? reject(err) : resolve())),
    );
  }
  p.finalize();
  await done;
  return Buffer.concat(chunks);
}

export function sha256(b: Uint8Array): string {
  return `sha256:${new Bun.CryptoHasher("sha256").update(b).digest("hex")}`;
}

export async function collect(s: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>): Promise<Buffer> {
  const out: Uint8Array[] = [];
  for await (const c of s as AsyncIterable<Uint8Array>) out.push(c);
  return Buffer.concat(out);
}
