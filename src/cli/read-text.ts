// node:fs costs a compiled client ~1–1.5 ms of its start just to load (measured
// beside a bare program, issue 16), and most commands never read a file: the
// few that sometimes do (an --env-file, a seccomp profile, the config file's
// detach keys) load it at the first read.
export function readText(path: string): string {
  return (require("node:fs") as typeof import("node:fs")).readFileSync(path, "utf8");
}
