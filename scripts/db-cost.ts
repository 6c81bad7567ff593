// What the store's start-up checks cost on a database of N container-sized
// rows (~4 KB each): the one-time VACUUM that turns on auto_vacuum for a
// database made before, PRAGMA quick_check / integrity_check, and giving the
// pages back after deleting every row. `bun scripts/db-cost.ts 5000`
import { Database } from "bun:sqlite";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openDatabase } from "../src/store/db.ts";
import { reclaimFreePages } from "../src/store/vacuum.ts";

const N = Number(process.argv[2] ?? 5000);
const dir = mkdtempSync(join(tmpdir(), "ctr-dbcost-"));
const path = join(dir, "ctr.db");
try {
  const raw = new Database(path, { create: true });
  raw.exec("PRAGMA journal_mode=WAL");
  raw.exec("CREATE TABLE c (id TEXT PRIMARY KEY, config TEXT, state TEXT)");
  const ins = raw.query("INSERT INTO c VALUES (?, ?, ?)");
  raw.transaction(() => {
    for (let i = 0; i < N; i++) ins.run(String(i).padStart(64, "0"), JSON.stringify({ Env: Array(40).fill("X=" + "y".repeat(80)) }), "{}");
  })();
  raw.close();
  const mib = () => (statSync(path).size / 1048576).toFixed(1);
  console.log(`rows ${N}, file ${mib()} MiB`);
  let t = performance.now();
  const db = openDatabase(path, []);
  console.log(`first open by this version (VACUUM to auto_vacuum=INCREMENTAL): ${(performance.now() - t).toFixed(1)} ms`);
  for (const p of ["quick_check", "integrity_check"]) {
    t = performance.now();
    db.query(`PRAGMA ${p}`).all();
    console.log(`${p}: ${(performance.now() - t).toFixed(1)} ms`);
  }
  db.exec("DELETE FROM c");
  db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  console.log(`all rows deleted: ${mib()} MiB`);
  t = performance.now();
  const n = reclaimFreePages(db);
  console.log(`reclaimFreePages: ${n} pages in ${(performance.now() - t).toFixed(1)} ms, file ${mib()} MiB`);
  db.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
