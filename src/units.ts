/** Docker's RAMInBytes: 64m, 1g, 512k, 10mb, plain bytes. Shared by the CLI and the engine. */
export function parseBytes(v: string | number): number {
  if (typeof v === "number") return v;
  const m = /^(\d+(?:\.\d+)?)\s*([kmgtp]?)i?b?$/i.exec(v.trim());
  if (!m) throw new Error(`invalid size: '${v}'`);
  const mult = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 }[m[2]!.toLowerCase() as "k"]!;
  return Math.round(Number(m[1]) * mult);
}
