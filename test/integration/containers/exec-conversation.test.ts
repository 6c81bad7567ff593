// ctr's own exec conversation (server/routes/exec.ts) on the wire: the exec
// create that answers with the start (one request for `ctr exec`), and what
// it answers when it cannot or is not asked to.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { isRoot, startDaemon, type TestDaemon, removeAllContainers } from "../../helpers/daemon.ts";
import { haveRegistry, seedBusybox, startRegistry, type RunningRegistry } from "../../helpers/registry.ts";
import { frames } from "../../helpers/stdcopy.ts";
import { hijacked, plainAnswer, readAll } from "../../helpers/hijacked.ts";

setDefaultTimeout(60_000);

const ready = isRoot && haveRegistry;
if (!isRoot) console.warn("skip: the exec conversation needs root (containers)");
else if (!haveRegistry) console.warn("skip: docker-registry is not installed");

describe.skipIf(!ready)("ctr's exec conversation", () => {
  let reg: RunningRegistry;
  let d: TestDaemon;
  let box = "";
  const exec = (Cmd: string[], extra: Record<string, unknown> = {}) => ({ Cmd, AttachStdout: true, AttachStderr: true, ...extra });

  beforeAll(async () => {
    reg = await startRegistry();
    const bb = await seedBusybox(reg.host);
    d = await startDaemon();
    expect((await d.ctr(["pull", "-q", bb])).code).toBe(0);
    box = (await d.ctr(["run", "-d", "--network", "none", bb, "sleep", "600"])).stdout.trim();
  });
  afterAll(async () => {
    await removeAllContainers(d);
    await d?.[Symbol.asyncDispose]();
    await reg?.stop();
  });

  test("create with start=1 answers with the start: output, then the exit code as the last frame; inspect agrees", async () => {
    const h = hijacked(await d.client.upgrade(`/containers/${box}/exec`, { start: 1 }, exec(["sh", "-c", "echo out; echo err >&2; exit 3"])));
    expect(h.headers.get("x-ctr-ends-with-status")).toBe("1");
    const id = h.headers.get("x-ctr-exec-id")!;
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    const got = frames(await readAll(h));
    expect(got.filter((f) => f.stream !== 3).sort((a, b) => a.stream - b.stream)).toEqual([
      { stream: 1, text: "out\n" },
      { stream: 2, text: "err\n" },
    ]);
    expect(got.at(-1)).toEqual({ stream: 3, text: JSON.stringify({ ExitCode: 3 }) });
    expect(await d.client.json("GET", `/exec/${id}/json`)).toMatchObject({ ExitCode: 3, Running: false });
  });

  test("a command that cannot start: dockerd's message on stdout, then 126", async () => {
    const got = frames(await readAll(hijacked(await d.client.upgrade(`/containers/${box}/exec`, { start: 1 }, exec(["nosuchcmd"])))));
    expect(got).toEqual([
      { stream: 1, text: 'exec: "nosuchcmd": executable file not found in $PATH\r\n' },
      { stream: 3, text: JSON.stringify({ ExitCode: 126 }) },
    ]);
  });

  test("an exec that cannot be made answers as Docker's; a TTY exec, or no upgrade, is Docker's create: 201 and nothing started", async () => {
    const missing = plainAnswer(await d.client.upgrade("/containers/nosuch/exec", { start: 1 }, exec(["true"])));
    expect([missing.status, JSON.parse(missing.body)]).toEqual([404, { message: "No such container: nosuch" }]);
    const tty = plainAnswer(await d.client.upgrade(`/containers/${box}/exec`, { start: 1 }, exec(["true"], { Tty: true })));
    expect(tty.status).toBe(201);
    const { Id } = JSON.parse(tty.body) as { Id: string };
    expect(await d.client.json("GET", `/exec/${Id}/json`)).toMatchObject({ Running: false, ExitCode: null, Pid: 0 });
    const created = await d.client.json<{ Id: string }>("POST", `/containers/${box}/exec`, { query: { start: 1 }, body: exec(["true"]) });
    expect(await d.client.json("GET", `/exec/${created.Id}/json`)).toMatchObject({ Running: false, ExitCode: null, Pid: 0 });
  });
});
