// Data on disk that the database does not account for is never deleted at
// start: it may be all that is left of a store whose database was lost or
// rolled back. It is moved under <root>/lost+found/<kind>/ (a rename on the
// same file system, so it costs nothing and keeps every byte), and the log
// says where. Deleting lost+found is the user's decision.
import { mkdirSync, renameSync } from "node:fs";
import { basename, join } from "node:path";

export type LostKind = "layers" | "rw" | "containers" | "volumes";

export interface LostFound {
  /** Moves `path` aside; returns where it went (null: it could not be moved and stays where it is). */
  moveAside(kind: LostKind, path: string): string | null;
}

export function lostFoundAt(root: string): LostFound {
  return {
    moveAside(kind, path) {
      const dir = join(root, "lost+found", kind);
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const to = join(dir, `${basename(path)}-${new Date().toISOString().replace(/[:.]/g, "")}`);
      try {
        renameSync(path, to);
        return to;
      } catch {
        // Another file system (a volumes dir mounted elsewhere) or busy: leave it in place, never delete it.
        return null;
      }
    },
  };
}
