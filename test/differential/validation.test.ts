// Docker's validation at the API edge: every bad input of bad-inputs.ts sent to
// Debian's dockerd and to ctr. Status codes and messages must agree, or the
// difference be listed in intended-differences.ts; what ctr refuses is never
// stored, and what it stored never breaks `docker ps -a` or `docker volume ls`.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { hasDocker, startDaemon, type TestDaemon } from "../helpers/daemon.ts";
import { dockerdSkipReason, startDockerd, type TestDockerd } from "../helpers/dockerd.ts";
import { normaliseText } from "../helpers/normalise.ts";
import { seedBusybox, startRegistry, type RunningRegistry } from "../helpers/registry.ts";
import { BAD_INPUTS, type BadInput } from "./bad-inputs.ts";
import { intended } from "./intended-differences.ts";

setDefaultTimeout(180_000);
const skip = dockerdSkipReason ?? (hasDocker ? undefined : "needs the docker CLI");
if (skip) console.warn(`skip: differential validation: ${skip}`);

/** dockerd 20.10's API answers with the version it speaks; ctr takes it too. */
const API = "/v1.41";

interface Answer {
  status: number;
  message: string;
}

/** One daemon's side: its socket and the objects the inputs refer to. */
class Side {
  fixtures: Record<string, string> = {};
  constructor(readonly sock: string) {}

  async call(method: string, path: string, body?: string): Promise<Answer> {
    const r = await fetch(`http://localhost${API}${path}`, {
      method,
      unix: this.sock,
      headers: body === undefined ? {} : { "Content-Type": "application/json" },
      body,
    } as RequestInit);
    const text = await r.text();
    let message = text;
    try {
      message = (JSON.parse(text) as { message?: string }).message ?? text;
    } catch {}
    return { status: r.status, message };
  }

  async setUp(image: string): Promise<void> {
    const id = async (p: Promise<Answer>) => (JSON.parse((await p).message) as { Id: string }).Id;
    const json = (v: unknown) => JSON.stringify(v);
    await this.call("POST", `/images/create?fromImage=${encodeURIComponent(image)}`);
    this.fixtures.image = image;
    this.fixtures.created = await id(this.call("POST", "/containers/create?name=edge-created", json({ Image: image, Cmd: ["true"] })));
    this.fixtures.running = await id(this.call("POST", "/containers/create?name=edge-running", json({ Image: image, Cmd: ["sleep", "300"] })));
    await this.call("POST", `/containers/${this.fixtures.running}/start`);
    this.fixtures.net = await id(this.call("POST", "/networks/create", json({ Name: "edge-net" })));
    this.fixtures.exec = await id(this.call("POST", `/containers/${this.fixtures.running}/exec`, json({ Cmd: ["true"] })));
  }

  subst(s: string): string {
    return s.replace(/\{(\w+)\}/g, (m, k: string) => this.fixtures[k] ?? m);
  }

  send(c: BadInput): Promise<Answer> {
    const q = c.query ? `?${new URLSearchParams(Object.entries(c.query).map(([k, v]): [string, string] => [k, this.subst(v)]))}` : "";
    const body = c.raw ?? (c.body === undefined ? undefined : this.subst(JSON.stringify(c.body)));
    return this.call(c.method ?? "POST", this.subst(c.path) + q, body);
  }

  async tearDown(): Promise<void> {
    const nets = (JSON.parse((await this.call("GET", "/networks")).message) as { Name: string }[]).map((n) => n.Name);
    await this.call("DELETE", `/containers/${this.fixtures.running}?force=1`);
    for (const n of nets.filter((n) => !["bridge", "host", "none"].includes(n))) await this.call("DELETE", `/networks/${n}`);
  }
}

/** What differs between the two answers, as intended-difference keys. */
function differencesOf(name: string, d: Answer, c: Answer, norm: (s: string) => string): string[] {
  const out: string[] = [];
  const ok = (s: number) => s >= 200 && s < 300;
  if (d.status !== c.status) {
    // dockerd 20.10 answers a body it cannot decode (and a bad integer parameter) with 500; ctr says 400.
    const clientError = d.status === 500 && c.status === 400 && intended("validation/*/500-as-400");
    if (!clientError) out.push(`validation/${name}/status`);
  }
  if (!(ok(d.status) && ok(c.status)) && norm(d.message) !== norm(c.message)) out.push(`validation/${name}/message`);
  return out.filter((k) => !intended(k));
}

describe.skipIf(!!skip)("differential: dockerd's validation at the API edge", () => {
  let reg: RunningRegistry;
  let ctr: TestDaemon;
  let dkr: TestDockerd;
  let sides: { d: Side; c: Side };
  beforeAll(async () => {
    reg = await startRegistry();
    const bb = await seedBusybox(reg.host);
    [ctr, dkr] = await Promise.all([startDaemon(), startDockerd()]);
    sides = { d: new Side(dkr.sock), c: new Side(ctr.sock) };
    await Promise.all([sides.d.setUp(bb), sides.c.setUp(bb)]);
  });
  afterAll(async () => {
    await Promise.all([sides?.d.tearDown(), sides?.c.tearDown()]);
    await Promise.all([ctr?.[Symbol.asyncDispose](), dkr?.[Symbol.asyncDispose]()]);
    await reg?.stop();
  });

  test(`${BAD_INPUTS.length} bad inputs: same status and message as dockerd, or an intended difference`, async () => {
    // Both daemons at once: dockerd spends 15 s looking up each unknown plugin.
    const answers = await Promise.all(BAD_INPUTS.map(async (c) => ({ c, d: await sides.d.send(c), ctr: await sides.c.send(c) })));
    const ids = (s: Side) => Object.fromEntries(Object.entries(s.fixtures).map(([k, v]) => [v, `<${k}>`]));
    const found: string[] = [];
    for (const { c, d, ctr: a } of answers) {
      const keys = differencesOf(c.name, d, a, (s) => normaliseText(s, { replace: { ...ids(sides.d), ...ids(sides.c) } }));
      for (const k of keys) found.push(`${k}: dockerd ${d.status} ${JSON.stringify(d.message)}, ctr ${a.status} ${JSON.stringify(a.message)}`);
    }
    expect(found).toEqual([]);
  });

  test("what ctr stored still lists: docker ps -a and docker volume ls work", async () => {
    const ps = await ctr.docker(["ps", "-a", "--format", "{{.Names}}"]);
    expect(ps.stderr).toBe("");
    expect(ps.code).toBe(0);
    expect(ps.stdout).toContain("edge-created");
    const vols = await ctr.docker(["volume", "ls", "-q"]);
    expect(vols.stderr).toBe("");
    expect(vols.code).toBe(0);
  });
});
