// Platforms as in the OCI image index (os/architecture/variant) and the
// selection containerd's platforms package makes: normalised names (aarch64 →
// arm64, x86_64 → amd64), arm64 without variant == v8, and an arm/v7 host also
// running arm/v6 and v5 images (older variants of the same arch, best first).
import { readFileSync } from "node:fs";
import { InvalidParameterError } from "../errors.ts";

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

const ARCH_ALIASES: Record<string, Platform["architecture"]> = {
  x86_64: "amd64",
  "x86-64": "amd64",
  amd64: "amd64",
  aarch64: "arm64",
  arm64: "arm64",
  i386: "386",
  i686: "386",
  x64: "amd64",
  ia32: "386",
};

/** Normalises architecture and variant (containerd's normalizeArch). */
export function normalizePlatform(p: Platform): Platform {
  const os = p.os.toLowerCase();
  let arch = p.architecture.toLowerCase();
  let variant = p.variant?.toLowerCase() || undefined;
  if (arch === "armhf") {
    arch = "arm";
    variant = "v7";
  } else if (arch === "armel") {
    arch = "arm";
    variant = "v6";
  } else arch = ARCH_ALIASES[arch] ?? arch;
  if (arch === "arm64" && (variant === "8" || variant === "v8")) variant = undefined;
  if (arch === "arm") {
    if (!variant || variant === "7") variant = "v7";
    else if (/^[5-8]$/.test(variant)) variant = `v${variant}`;
  }
  if (arch === "amd64" && variant === "v1") variant = undefined;
  return variant ? { os, architecture: arch, variant } : { os, architecture: arch };
}

/** Parses `--platform`: os/arch[/variant] or a bare arch (os defaults to linux). */
export function parsePlatform(s: string): Platform {
  const parts = s.trim().split("/");
  if (parts.some((x) => !x || !/^[A-Za-z0-9_.-]+$/.test(x)) || parts.length > 3) {
    throw new InvalidParameterError(`invalid platform ${JSON.stringify(s)}: expected os/arch[/variant]`);
  }
  if (parts.length === 1) {
    const known = ["linux", "windows", "darwin", "freebsd"];
    return known.includes(parts[0]!.toLowerCase())
      ? normalizePlatform({ os: parts[0]!, architecture: hostPlatform().architecture })
      : normalizePlatform({ os: "linux", architecture: parts[0]! });
  }
  return normalizePlatform({ os: parts[0]!, architecture: parts[1]!, variant: parts[2] });
}

export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join("/");
}

let cachedHost: Platform | null = null;

/** The machine we run on; arm variants read from /proc/cpuinfo like containerd's cpuVariant. */
export function hostPlatform(): Platform {
  if (cachedHost) return cachedHost;
  const arch = ARCH_ALIASES[process.arch] ?? process.arch;
  let variant: string | undefined;
  if (arch === "arm") {
    try {
      const m = /^CPU architecture\s*:\s*(\d+)/m.exec(readFileSync("/proc/cpuinfo", "utf8"));
      variant = m ? `v${Math.min(Number(m[1]), 8)}` : "v7";
    } catch {
      variant = "v7";
    }
  }
  cachedHost = normalizePlatform({ os: "linux", architecture: arch, variant });
  return cachedHost;
}

/** Variants a platform can run, best first (arm/v7 runs v7, v6, v5). */
function compatibleVariants(p: Platform): (string | undefined)[] {
  if (p.architecture === "arm") {
    const n = Number(p.variant?.slice(1) ?? 7);
    const out: string[] = [];
    for (let v = n; v >= 5; v--) out.push(`v${v}`);
    return out;
  }
  if (p.architecture === "arm64") return [undefined];
  return [p.variant];
}

/**
 * Picks the best entry of an index for `want`: same os and architecture,
 * a compatible variant ranked by closeness. Null when none fits.
 */
export function selectPlatform<T extends { platform?: Platform }>(entries: readonly T[], want: Platform): T | null {
  const w = normalizePlatform(want);
  const order = compatibleVariants(w);
  let best: { e: T; rank: number } | null = null;
  for (const e of entries) {
    if (!e.platform) continue;
    const p = normalizePlatform(e.platform);
    if (p.os !== w.os || p.architecture !== w.architecture) continue;
    let rank = order.indexOf(p.variant);
    // amd64 micro-architecture levels and unknown variants: accept, ranked last.
    if (rank === -1) {
      if (w.architecture === "arm" || w.architecture === "arm64") continue;
      rank = order.length;
    }
    if (!best || rank < best.rank) best = { e, rank };
  }
  return best?.e ?? null;
}
