// ctr's own run conversation (server/routes/attach-run.ts) on the wire: the
// create that answers with the attach (one request for `ctr run`), the attach
// with run=, and what either answers when it cannot.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { Hijacked, PlainAnswer } from "../../../src/client/client.ts";
import { isRoot, startDaemon, type TestDaemon, removeAllContainers } from "../../helpers/daemon.ts";
import { haveRegistry, seedBusybox, startRegistry, type RunningRegistry } from "../../helpers/registry.ts";
import { frames } from "../../helpers/stdcopy.ts";
import { hijacked, plainAnswer, readAll } from "../../helpers/hijacked.ts";

setDefaultTimeout(60_000);

const ready = isRoot && haveRegistry;
if (!isRoot) console.warn("skip: the run conversation needs root (containers)");
else if (!haveRegistry) console.warn("skip: docker-registry is not installed");

/** A plain (not switched) answer as its status and Docker's {"message"}. */
const answer = (r: Hijacked | PlainAnswer) => {
  const p = plainAnswer(r);
  return { status: p.status, message: (JSON.parse(p.body) as { message: string }).message };
};

describe.skipIf(!ready)("ctr's run conversation", () => {
  let reg: RunningRegistry;
  let bb: string;
  let d: TestDaemon;
  const stream = { stream: 1, stdout: 1, stderr: 1 };
  const names = async () => (await d.client.json<{ Names: string[] }[]>("GET", "/containers/json", { query: { all: 1 } })).flatMap((c) => c.Names);

  beforeAll(async () => {
    reg = await startRegistry();
    bb = await seedBusybox(reg.host);
    d = await startDaemon();
    expect((await d.ctr(["pull", "-q", bb])).code).toBe(0);
  });
  afterAll(async () => {
    await removeAllContainers(d);
    await d?.[Symbol.asyncDispose]();
    await reg?.stop();
  });

  test("create with run= answers with the attach: output, then the exit status as the last frame; --rm's container is gone", async () => {
    const body = { Image: bb, Cmd: ["sh", "-c", "echo out; echo err >&2; exit 3"], AttachStdout: true, AttachStderr: true, HostConfig: { AutoRemove: true } };
    const h = hijacked(await d.client.upgrade("/containers/create", { ...stream, name: "conv1", run: "removed" }, body));
    expect(h.headers.get("x-ctr-ends-with-status")).toBe("1");
    const id = h.headers.get("x-ctr-container-id")!;
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    const got = frames(await readAll(h));
    expect(got.filter((f) => f.stream !== 3)).toEqual([
      { stream: 1, text: "out\n" },
      { stream: 2, text: "err\n" },
    ]);
    expect(got.at(-1)!.stream).toBe(3);
    expect(JSON.parse(got.at(-1)!.text)).toEqual({ StatusCode: 3, Error: null });
    expect(await names()).not.toContain("/conv1");
  });

  test("create with run= of a command that cannot start: the start's error in the last frame", async () => {
    const h = hijacked(await d.client.upgrade("/containers/create", { ...stream, run: "next-exit" }, { Image: bb, Cmd: ["no-such-command"] }));
    const last = frames(await readAll(h)).at(-1)!;
    expect(last.stream).toBe(3);
    expect(JSON.parse(last.text).start).toMatchObject({ message: expect.stringContaining('exec: "no-such-command": executable file not found in $PATH') });
    await d.client.request("DELETE", `/containers/${h.headers.get("x-ctr-container-id")}`, { query: { force: 1 } });
  });

  test("a create that fails answers as Docker's, and a run= it cannot honour creates nothing", async () => {
    const missing = await d.client.upgrade("/containers/create", { ...stream, run: "removed" }, { Image: "no-such-image:1", Cmd: ["true"] });
    expect(answer(missing)).toEqual({ status: 404, message: "No such image: no-such-image:1" });
    const tty = await d.client.upgrade("/containers/create", { ...stream, name: "conv-tty", run: "removed" }, { Image: bb, Cmd: ["true"], Tty: true });
    expect(answer(tty)).toEqual({ status: 400, message: "run needs stream=1 and a container without a TTY" });
    const bad = await d.client.upgrade("/containers/create", { ...stream, name: "conv-bad", run: "whenever" }, { Image: bb, Cmd: ["true"] });
    expect(answer(bad)).toEqual({ status: 400, message: 'invalid run condition: "whenever"' });
    expect(await names()).not.toContain("/conv-tty");
    expect(await names()).not.toContain("/conv-bad");
  });

  test("without run= (or without an upgrade) the create is Docker's: 201 and the id", async () => {
    const plain = await d.client.upgrade("/containers/create", { name: "conv2" }, { Image: bb, Cmd: ["true"] });
    expect(plain).toMatchObject({ status: 201 });
    const { Id } = JSON.parse((plain as PlainAnswer).body) as { Id: string };
    expect(await names()).toContain("/conv2");
    const h = hijacked(await d.client.upgrade(`/containers/${Id}/attach`, { ...stream, run: "next-exit" }));
    expect(JSON.parse(frames(await readAll(h)).at(-1)!.text)).toEqual({ StatusCode: 0, Error: null });
    await d.client.request("DELETE", `/containers/${Id}`);
  });
});
