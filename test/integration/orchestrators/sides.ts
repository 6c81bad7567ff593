// The set-up every orchestrator replay shares: a registry seeded with busybox,
// a ctr daemon and (where root and docker.io are there) Debian's dockerd, each
// as a "side" the replay runs on in turn, with busybox pulled on both.
import { afterAll, beforeAll } from "bun:test";
import { hasDocker, isRoot, startDaemon, type TestDaemon } from "../../helpers/daemon.ts";
import { dockerdSkipReason, startDockerd, type TestDockerd } from "../../helpers/dockerd.ts";
import { haveRegistry, seedBusybox, startRegistry, type RunningRegistry } from "../../helpers/registry.ts";
import { apiOn, type Api } from "./api.ts";

export interface Side {
  name: "ctr" | "dockerd";
  api: Api;
  docker(args: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
}

export interface Sides {
  reg: RunningRegistry;
  /** The seeded busybox reference. */
  bb: string;
  ctr: TestDaemon;
  dkr?: TestDockerd;
  /** ctr first, then dockerd when it runs here. */
  all: Side[];
}

/** Why a replay cannot run here (printed once), or undefined; `dockerd` notes a ctr-only run. */
export function replaySkip(what: string): string | undefined {
  const skip = !isRoot ? "needs root" : !haveRegistry ? "needs docker-registry" : !hasDocker ? "needs the docker CLI" : undefined;
  if (skip) console.warn(`skip: ${what}: ${skip}`);
  else if (dockerdSkipReason) console.warn(`${what} run on ctr only: ${dockerdSkipReason}`);
  return skip;
}

export const sideOf = (name: Side["name"], sock: string, docker: Side["docker"]): Side => ({ name, api: apiOn(sock), docker });

/** Starts both daemons (dockerd only where it can run), `ctrArgs` for ctr's daemon, and pulls busybox on each. */
export async function startSides(o: { ctrArgs?: string[]; dockerdArgs?: string[] } = {}): Promise<Sides> {
  const reg = await startRegistry();
  const started = await Promise.allSettled([startDaemon(o.ctrArgs ?? []), dockerdSkipReason ? undefined : startDockerd({ extra: o.dockerdArgs })]);
  const [ctr, dkr] = started.map((r) => (r.status === "fulfilled" ? r.value : undefined)) as [TestDaemon | undefined, TestDockerd | undefined];
  try {
    for (const r of started) if (r.status === "rejected") throw r.reason;
    const bb = await seedBusybox(reg.host);
    const all = [sideOf("ctr", ctr!.sock, (a) => ctr!.docker(a)), ...(dkr ? [sideOf("dockerd", dkr.sock, (a) => dkr.docker(a))] : [])];
    for (const s of all) {
      const r = await s.docker(["pull", "-q", bb]);
      if (r.code !== 0) throw new Error(`${s.name}: pull ${bb}: ${r.stderr}`);
    }
    return { reg, bb, ctr: ctr!, dkr, all };
  } catch (e) {
    // Nothing a failed start made stays behind (daemons, bridges, the registry).
    await Promise.all([ctr?.[Symbol.asyncDispose](), dkr?.[Symbol.asyncDispose]()]);
    await reg.stop();
    throw e;
  }
}

/** Removes the named containers on every side, then stops the daemons and the registry (parts never made are skipped). */
export async function stopSides(s: Sides | undefined, names: string[] = []): Promise<void> {
  if (!s) return;
  if (names.length) for (const side of s.all) await side.docker(["rm", "-f", ...names]);
  await Promise.all([s.ctr?.[Symbol.asyncDispose](), s.dkr?.[Symbol.asyncDispose]()]);
  await s.reg?.stop();
}

/** POST /containers/create?name=… with busybox; expects 201 and answers the id. */
export async function createOn(s: Side, bb: string, name: string, body: Record<string, unknown>): Promise<string> {
  const r = await s.api("POST", `/containers/create?name=${name}`, { Image: bb, ...body });
  if (r.status !== 201) throw new Error(`${s.name}: create ${name}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.Id as string;
}

/**
 * Inside a describe: both sides for its tests (filled in by beforeAll), and
 * afterwards the named containers removed and everything stopped.
 */
export function useSides(names: string[] = [], o: { ctrArgs?: string[]; dockerdArgs?: string[] } = {}): Sides {
  const s = {} as Sides;
  beforeAll(async () => {
    Object.assign(s, await startSides(o));
  });
  afterAll(async () => {
    await stopSides(s.reg ? s : undefined, names);
  });
  return s;
}
