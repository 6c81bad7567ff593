/** Docker's RAMInBytes: 64m, 1g, 512k, 10mb, plain bytes. Shared by the CLI and the engine. */
export function parseBytes(v: string | number): number {
  if (typeof v === "number") return v;
  const m = /^(\d+(?:\.\d+)?)\s*([kmgtp]?)i?b?$/i.exec(v.trim());
  if (!m) throw new Error(`invalid size: '${v}'`);
  const mult = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 }[m[2]!.toLowerCase() as "k"]!;
  return Math.round(Number(m[1]) * mult);
}

const DURATION_UNITS_NS: Record<string, number> = { ns: 1, us: 1e3, "µs": 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** Go's time.ParseDuration ("1m30s", "500ms", "2h"), in nanoseconds: the docker CLI's duration flags. */
export function parseDuration(v: string): number {
  const s = v.trim();
  if (s === "0") return 0;
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/gy;
  let ns = 0;
  let at = 0;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    ns += Number(m[1]) * DURATION_UNITS_NS[m[2]!]!;
    at = re.lastIndex;
  }
  if (!s || at !== s.length) throw new Error(`invalid duration: "${v}"`);
  return Math.round(ns);
}

/** Docker's units.HumanDuration ("About a minute", "3 days"): the CLI's and the engine's Status texts. */
export function humanDuration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 1) return "Less than a second";
  if (s === 1) return "1 second";
  if (s < 60) return `${s} seconds`;
  const m = Math.round(s / 60);
  if (m === 1) return "About a minute";
  if (m < 60) return `${m} minutes`;
  const h = Math.round(s / 3600);
  if (h === 1) return "About an hour";
  if (h < 48) return `${h} hours`;
  if (h < 24 * 7 * 2) return `${Math.round(h / 24)} days`;
  if (h < 24 * 30 * 2) return `${Math.round(h / 24 / 7)} weeks`;
  if (h < 24 * 365 * 2) return `${Math.round(h / 24 / 30)} months`;
  return `${Math.round(h / 24 / 365)} years`;
}
