// At daemon start, before containers are reconciled: the container rows and
// what they own on disk (containers/<id>/ and the rw layer) are made to agree
// both ways. A directory without a row is moved aside (lost+found), never
// deleted; a row whose rw layer is gone cannot run again and is marked dead
// (`docker ps -a` shows it, `rm` removes it). A row without its containers/<id>
// dir needs nothing: the dir and its files are written again at start.
import { readdirSync, rmSync } from "node:fs";
import { SET_ASIDE_SUFFIX } from "./tidy.ts";
import { SPARES_DIR } from "./spare-dirs.ts";
import { join } from "node:path";
import type { LostFound } from "../../store/lost-found.ts";
import type { ContainerStore } from "./store.ts";

export interface DiskRepairDeps {
  store: ContainerStore;
  /** <root>/containers */
  dir: string;
  /** Container ids that have an rw layer, and where one lives. */
  rwIds(): string[];
  rwPath(id: string): string;
  lost: LostFound;
}

export interface DiskRepairReport {
  movedAside: string[];
  dead: string[];
}

const ID = /^[0-9a-f]{64}$/;

export function repairContainerDisk(d: DiskRepairDeps): DiskRepairReport {
  const report: DiskRepairReport = { movedAside: [], dead: [] };
  const rows = d.store.all();
  const known = new Set(rows.map((c) => c.id));
  for (const n of readdirSync(d.dir)) {
    // Directories made ahead for the next starts (spare-dirs.ts): no one's yet.
    if (n === SPARES_DIR) {
      rmSync(join(d.dir, n), { recursive: true, force: true });
      continue;
    }
    // A removed container's directory whose deletion a crash cut short (tidy.ts).
    if (n.endsWith(SET_ASIDE_SUFFIX) && ID.test(n.slice(0, -SET_ASIDE_SUFFIX.length))) {
      rmSync(join(d.dir, n), { recursive: true, force: true });
      continue;
    }
    if (!ID.test(n) || known.has(n)) continue;
    d.lost.moveAside("containers", join(d.dir, n));
    report.movedAside.push(n);
  }
  const rw = new Set(d.rwIds());
  for (const id of rw) {
    if (known.has(id)) continue;
    d.lost.moveAside("rw", d.rwPath(id));
    report.movedAside.push(`rw/${id}`);
  }
  for (const c of rows) {
    if (rw.has(c.id) || c.state.Dead) continue;
    c.state = { ...c.state, Status: "dead", Dead: true, Running: false, Paused: false, Restarting: false, Pid: 0, Error: "the container's rw layer is missing from the store" };
    d.store.save(c);
    report.dead.push(c.id);
  }
  return report;
}
