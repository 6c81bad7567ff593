/** Go's name for this machine's architecture, as Docker reports it (amd64, arm64, …). */
export function goArch(): string {
  return ({ x64: "amd64", arm64: "arm64", arm: "arm", ia32: "386" } as Record<string, string>)[process.arch] ?? process.arch;
}
