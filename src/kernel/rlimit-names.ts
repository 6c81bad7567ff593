// Docker's ulimit names (go-units' ulimit.go) → RLIMIT_* numbers of
// <asm-generic/resource.h>, the same on x86, x86_64, arm and aarch64
// (setrlimit itself is in syscalls.ts). No FFI here: the client parses --ulimit with it.
export const RLIMITS: Record<string, number> = {
  cpu: 0, fsize: 1, data: 2, stack: 3, core: 4, rss: 5, nproc: 6, nofile: 7, memlock: 8, locks: 10, sigpending: 11, msgqueue: 12,
  nice: 13, rtprio: 14, rttime: 15,
};
