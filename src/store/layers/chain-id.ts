import { createHash } from "node:crypto";

/**
 * OCI image spec config.md "Layer ChainID": ChainID(L0) = DiffID(L0),
 * ChainID(Ln) = sha256(ChainID(Ln-1) + " " + DiffID(Ln)).
 */
export function chainIdOf(parentChainId: string | null, diffId: string): string {
  if (!parentChainId) return diffId;
  return `sha256:${createHash("sha256").update(`${parentChainId} ${diffId}`).digest("hex")}`;
}

/** The chain ids of a whole diff id list, bottom first. */
export function chainIdsOf(diffIds: readonly string[]): string[] {
  const out: string[] = [];
  for (const d of diffIds) out.push(chainIdOf(out[out.length - 1] ?? null, d));
  return out;
}
