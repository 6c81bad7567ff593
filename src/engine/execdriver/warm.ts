// A pre-started `ctr init`: the runtime's boot (~10 ms) and the first cgroup
// migration (an RCU grace period, ~5 ms on v1) are the largest parts of a
// container start, so after each start the driver starts the next init in the
// background (two are kept: see DEPTH). It waits, blocked on its spec pipe, as pid 1 of a new pid
// namespace in a cgroup of its own (`warm-<hex>`); the next start renames that
// cgroup to the container's id (its process stays in it, no migration) and
// hands over the spec. Nothing else about it is shared or decided early.
// The next one is started a moment after a start, not in the same turn of
// the loop: spawning blocks the loop for 1–10 ms (the child's exec of a big
// binary), and the start's answer and first output go out first (issue 16);
// later would make the next start of a busy box wait for it. A start that
// comes while it still boots waits for it, always sooner than booting another.
// The init writes itself into that cgroup, so the daemon never waits on the
// migration. After `idleMs` without a start it is stopped, so an idle box holds no
// extra process. If the daemon dies it exits at EOF on its pipe; a stale
// warm cgroup is removed at the next start of a daemon with the same tag
// (its exec root): daemons side by side share the cgroup parent and must not
// kill each other's waiting inits.
import { randomBytes } from "node:crypto";
import { closeSync, readFileSync } from "node:fs";
import { getPriority, setPriority } from "node:os";
import type { CgroupManager } from "../../kernel/cgroups/types.ts";
import type { InitChild } from "./init-child.ts";

export const WARM_PREFIX = "warm-";
/** After a start, the next init is started this much later (see above). */
const REFILL_DELAY_MS = 2;
/**
 * Inits kept waiting. One is not enough back to back: an init joins its cgroup
 * ~25 ms after its spawn (Bun's boot ~11 ms, then on v1 one cgroup.procs write
 * per hierarchy, each migration waiting on cgroup_threadgroup_rwsem's RCU sync),
 * and the next start of `ctr run` comes ~35 ms after the last: on a busy box
 * (the nice-10 boot gets little CPU) half the starts waited 2–17 ms for it. With
 * two, the one taken has been booting for a whole start already.
 */
const DEPTH = 2;
/** How long a start waits for an init still on its way into its cgroup. */
const JOIN_WAIT_MS = 100;
/**
 * An init booting ahead runs this much nicer than the daemon: its ~12 ms of
 * CPU must not take turns from the container start under way on a busy box.
 * Taken, it gets the daemon's priority back before its spec (containers run
 * at the daemon's, as dockerd's do).
 */
const WAITING_NICE = 10;

function renice(pid: number, nice: number): void {
  try {
    setPriority(pid, nice);
  } catch {} // gone already, or not ours to renice: it only costs speed
}

/** Whether `pid` has written itself into the last of its cgroup.procs files (it writes them in order). */
function joined(procs: string[], pid: number): boolean {
  const last = procs.at(-1);
  if (!last) return false;
  try {
    return readFileSync(last, "utf8").split("\n").includes(String(pid));
  } catch {
    return false;
  }
}

export class WarmInit {
  /** Oldest first. */
  private waiting: { child: InitChild; cgroup: string; procs: string[] }[] = [];
  private idle: Timer | null = null;
  private closed = false;
  private refillTimer: Timer | null = null;
  /** The spawn under way, if any. */
  private spawned: Promise<void> | null = null;

  constructor(
    /** Starts an init that joins these cgroup.procs files itself (through the keeper: asynchronously). */
    private readonly spawn: (procsFiles: string[]) => Promise<InitChild>,
    private readonly cgroups: CgroupManager,
    private readonly idleMs = 30_000,
    /** Names this daemon's warm cgroups (`warm-<tag>-<hex>`). */
    private readonly tag = "",
  ) {
    for (const id of cgroups.list()) if (id.startsWith(this.prefix)) void cgroups.remove(id).catch(() => {});
  }

  private get prefix(): string {
    return this.tag ? `${WARM_PREFIX}${this.tag}-` : WARM_PREFIX;
  }

  /** The waiting init, its cgroup renamed to `id`; null when there is none (the caller spawns one). */
  async take(id: string): Promise<InitChild | null> {
    // One due soon, or on its way: sooner than a spawn of our own.
    if (this.refillTimer) {
      clearTimeout(this.refillTimer);
      this.refillTimer = null;
      void this.spawnOne();
    }
    if (!this.waiting.length && this.spawned) await this.spawned;
    const w = this.waiting.shift();
    if (!w) return null;
    renice(w.child.pid, getPriority());
    // Still booting, not yet in its cgroup: a rename now would leave it outside, or (v1: one
    // cgroup.procs per hierarchy, written in order) make its next write fail. The last file tells.
    const deadline = Date.now() + JOIN_WAIT_MS;
    while (w.child.running() && !joined(w.procs, w.child.pid) && Date.now() < deadline) await Bun.sleep(1);
    if (!w.child.running() || !joined(w.procs, w.child.pid)) {
      void this.discard(w); // dead, or too slow: what is left is its pipes and cgroup
      return null;
    }
    try {
      this.cgroups.rename(w.cgroup, id);
    } catch {
      void this.discard(w);
      return null;
    }
    return w.child;
  }

  /** Starts the next one a little later, off the start that just happened. */
  refill(): void {
    if (this.closed || this.full() || this.refillTimer) return;
    this.refillTimer = setTimeout(() => {
      this.refillTimer = null;
      void this.spawnOne();
    }, REFILL_DELAY_MS);
    this.refillTimer.unref?.();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.idle) clearTimeout(this.idle);
    if (this.refillTimer) clearTimeout(this.refillTimer);
    await this.spawned;
    const ws = this.waiting;
    this.waiting = [];
    await Promise.all(ws.map((w) => this.discard(w)));
  }

  /** DEPTH inits waiting or on their way. */
  private full(): boolean {
    return this.waiting.length + (this.spawned ? 1 : 0) >= DEPTH;
  }

  private spawnOne(): Promise<void> {
    if (this.closed || this.spawned || this.full()) return this.spawned ?? Promise.resolve();
    this.spawned = this.spawnInto().then((queued) => {
      this.spawned = null;
      // One at a time up to DEPTH: the second boots once the first is on its way. After a
      // failed spawn (cgroup refused, EMFILE, the keeper gone) the next start tries again:
      // refilling here would retry every REFILL_DELAY_MS for as long as the cause lasts.
      if (queued) this.refill();
    });
    return this.spawned;
  }

  /** Whether an init now waits (false: it failed, or is not needed any more). */
  private async spawnInto(): Promise<boolean> {
    const cgroup = `${this.prefix}${randomBytes(6).toString("hex")}`;
    try {
      // No limits and no device list yet: the container's are written when it is taken.
      this.cgroups.create(cgroup, { devices: "all" });
      const procs = this.cgroups.procsFiles(cgroup);
      const child = await this.spawn(procs);
      renice(child.pid, Math.min(getPriority() + WAITING_NICE, 19));
      if (this.closed || this.waiting.length >= DEPTH) {
        void this.discard({ child, cgroup });
        return false;
      }
      this.waiting.push({ child, cgroup, procs });
      // After idleMs without a start none is kept (one timer: every spawn follows a start).
      if (this.idle) clearTimeout(this.idle);
      this.idle = setTimeout(() => {
        for (const w of this.waiting.splice(0)) void this.discard(w);
      }, this.idleMs);
      this.idle.unref?.();
      return true;
    } catch {
      void this.cgroups.remove(cgroup).catch(() => {});
      return false;
    }
  }

  private discard(w: { child: InitChild; cgroup: string }): Promise<void> {
    w.child.kill(9);
    // Its pipes are ours to close: a discarded init is never launched, and the
    // launch is what closes them otherwise (each discard leaked three fds).
    for (const fd of [w.child.toInit, w.child.fromInit]) {
      try {
        closeSync(fd);
      } catch {}
    }
    w.child.stdin?.end();
    w.child.stdout?.resume();
    w.child.stderr?.resume();
    return w.child.exited.then(() => this.cgroups.remove(w.cgroup)).catch(() => {});
  }
}
