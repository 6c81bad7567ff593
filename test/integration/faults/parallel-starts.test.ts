// kill -9 of the daemon during 10 parallel starts. The daemon is frozen
// (SIGSTOP) at a moment a container's command already runs in its cgroup
// while the store still says "created" — the start was never recorded — and
// killed there. After the restart no container shows "Created" with a live
// process: reconcile finds what is in our cgroups, kills it and records the end.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { Database } from "bun:sqlite";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { isRoot, removeAllContainers, startDaemon, until, type TestDaemon } from "../../helpers/daemon.ts";
import { haveRegistry, seedBusybox, startRegistry, type RunningRegistry } from "../../helpers/registry.ts";
import { newCgroupManager } from "../../../src/kernel/cgroups/index.ts";

setDefaultTimeout(180_000);
const ready = isRoot && haveRegistry;
if (!isRoot) console.warn("skip: starting containers needs root");
else if (!haveRegistry) console.warn("skip: docker-registry is not installed");

const comm = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/comm`, "utf8").trim();
  } catch {
    return "";
  }
};
const alive = (pid: number) => existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, "utf8").includes(") Z ");

describe.skipIf(!ready)("kill -9 during parallel starts", () => {
  let reg: RunningRegistry;
  let bb: string;
  let d: TestDaemon | undefined;
  const cg = newCgroupManager();
  beforeAll(async () => {
    reg = await startRegistry();
    bb = await seedBusybox(reg.host);
    d = await startDaemon(["--log-level", "info"]);
    expect((await d.ctr(["pull", "-q", bb])).code).toBe(0);
  });
  afterAll(async () => {
    await removeAllContainers(d);
    await d?.[Symbol.asyncDispose]();
    await reg?.stop();
  });

  /** Ids whose command runs (comm "sleep") while the store still records them as created. */
  const orphansNow = (db: Database, ids: string[]) => {
    const rows = db.query<{ id: string; status: string }, []>("SELECT id, json_extract(state, '$.Status') AS status FROM containers").all();
    const created = new Set(rows.filter((r) => r.status === "created").map((r) => r.id));
    return ids.filter((id) => created.has(id) && cg.pids(id).some((p) => comm(p) === "sleep"));
  };

  test("no container shows Created with a live process after the restart", async () => {
    let caught: { ids: string[]; orphans: string[] } | null = null;
    for (let round = 0; round < 5 && !caught; round++) {
      const ids: string[] = [];
      for (let i = 0; i < 10; i++) ids.push((await d!.ctr(["create", bb, "sleep", "1000"])).stdout.trim());
      const db = new Database(join(d!.root, "ctr.db"), { readonly: true });
      const starts = ids.map((id) => d!.client.request("POST", `/containers/${id}/start`).catch(() => null));
      const deadline = Date.now() + 20_000;
      let finished = false;
      void Promise.all(starts).then(() => (finished = true));
      while (!finished && Date.now() < deadline) {
        if (ids.some((id) => cg.pids(id).length)) {
          d!.proc.kill("SIGSTOP");
          const orphans = orphansNow(db, ids);
          if (orphans.length) {
            d!.proc.kill(9);
            await d!.proc.exited;
            caught = { ids, orphans };
            break;
          }
          d!.proc.kill("SIGCONT");
        }
        await Bun.sleep(1);
      }
      db.close();
      if (!caught) await removeAllContainers(d);
    }
    expect(caught).not.toBeNull();
    const { ids, orphans } = caught!;
    const orphanPids = orphans.flatMap((id) => cg.pids(id));
    expect(orphanPids.some(alive)).toBe(true);

    d = await startDaemon(["--log-level", "info"], { dir: d!.dir });
    for (const id of ids) {
      const st = JSON.parse((await d.ctr(["inspect", "-f", "{{json .State}}", id])).stdout) as { Status: string; ExitCode: number; Error: string };
      // Nothing of ours is alive in any of the ten cgroups, whatever the store says.
      expect({ id, pids: cg.pids(id) }).toEqual({ id, pids: [] });
      if (orphans.includes(id)) expect({ id, ...st }).toMatchObject({ id, Status: "exited", ExitCode: 137, Error: "container was starting when the daemon stopped" });
      else expect(["created", "exited"]).toContain(st.Status);
    }
    await until(() => !orphanPids.some(alive), "the orphans to be gone");
    expect(d.log()).toContain("killing processes a previous daemon left");
    console.log(`orphaned at the kill (created in the store, command running): ${orphans.length} of ${ids.length}`);
  });
});
