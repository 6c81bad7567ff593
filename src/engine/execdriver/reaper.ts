// `docker run --init` without tini: `ctr init` stays pid 1 and runs the
// command as its child (`ctr init child`), forwarding signals and reaping
// orphans — the two jobs of an init that ordinary commands do not do
// (pid_namespaces(7): pid 1 gets only signals it has handlers for, and
// orphans re-parent to it).
import { closeSync, writeSync } from "node:fs";
import { constants } from "node:os";
import { reapOneExcept } from "../../kernel/syscalls.ts";
import type { ChildStage } from "./init.ts";
import { LineReader } from "./lines.ts";
import { HELLO_FD, SPEC_FD, STATUS_FD } from "./protocol.ts";

const FORWARDED = ["SIGTERM", "SIGINT", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGWINCH", "SIGCONT"] as const;

export function realSpawnChild(initCommand: string[], env: Record<string, string>): ChildStage {
  // Inherits stdio and the status pipe (fd 4): its errors reach the daemon directly.
  const child = Bun.spawn([...initCommand, "child"], {
    stdio: ["inherit", "inherit", "inherit", "pipe", STATUS_FD, "pipe"] as never,
    env,
  });
  const extra = child.stdio as unknown as number[];
  const toChild = extra[SPEC_FD]!;
  const hello = extra[HELLO_FD]!;
  for (const sig of FORWARDED) process.on(sig, () => child.kill(sig));
  const timer = setInterval(() => {
    while (reapOneExcept(child.pid) !== null);
  }, 200);
  const exited = child.exited.then((code) => {
    clearInterval(timer);
    const sig = child.signalCode ? (constants.signals as Record<string, number>)[child.signalCode] : undefined;
    return sig ? 128 + sig : code;
  });
  return {
    pid: child.pid,
    async loaded() {
      // Bun's extra stdio entries are non-blocking sockets: wait on the event loop.
      const line = await new LineReader(hello).next();
      closeSync(hello);
      if (line !== "loaded") throw new Error("the command stage exited before it loaded");
    },
    send(msg) {
      writeSync(toChild, JSON.stringify(msg) + "\n");
      closeSync(toChild);
    },
    exited,
    kill: (sig) => child.kill(sig),
  };
}
