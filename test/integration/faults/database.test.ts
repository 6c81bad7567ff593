// The store's database against faults, each with a daemon the test started
// and stopped or killed: a 0-byte, missing or corrupt ctr.db is refused with
// one line naming the file (never a fresh start over the data on disk), a WAL
// that lost committed frames is refused, data the database does not account
// for is moved under lost+found (never deleted), the two sides are reconciled
// both ways, and the file shrinks after mass removals.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { copyFileSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync, writeSync, closeSync } from "node:fs";
import { join } from "node:path";
import { isRoot, startDaemon, until, type TestDaemon } from "../../helpers/daemon.ts";
import { haveRegistry, seedBusybox, startRegistry, type RunningRegistry } from "../../helpers/registry.ts";

setDefaultTimeout(120_000);
const ready = isRoot && haveRegistry;
if (!isRoot) console.warn("skip: database faults need root (the daemon runs containers)");
else if (!haveRegistry) console.warn("skip: docker-registry is not installed");

// The refused daemon's only line; a test daemon's log is overwritten from its start, not truncated.
const firstLine = (log: string) => log.split("\n")[0] ?? "";

describe.skipIf(!ready)("the database under faults", () => {
  let reg: RunningRegistry;
  let bb: string;
  let d: TestDaemon | undefined;
  let dir = "";
  const db = () => join(d!.root, "ctr.db");
  const layerDirs = () => readdirSync(join(dir, "root", "layers")).filter((n) => !["l", "rw", ".tmp"].includes(n)).sort();
  const refused = async (pattern: RegExp) => {
    const e = await startDaemon([], { dir }).then(
      async (x) => {
        await x.stop();
        return null;
      },
      (err: Error) => err,
    );
    expect(e).not.toBeNull();
    const line = firstLine(readFileSync(join(dir, "daemon.log"), "utf8"));
    expect(line).toMatch(/^Error: /);
    expect(line).toMatch(pattern);
    return line;
  };

  beforeAll(async () => {
    reg = await startRegistry();
    bb = await seedBusybox(reg.host);
    d = await startDaemon();
    dir = d.dir;
    expect((await d.ctr(["pull", "-q", bb])).code).toBe(0);
    expect((await d.ctr(["create", "--name", "keep", bb, "true"])).code).toBe(0);
    await d.stop();
  });
  afterAll(async () => {
    await d?.[Symbol.asyncDispose]();
    await reg?.stop();
  });

  test("a 0-byte ctr.db is refused and no layer dir is touched; the file restored, everything works", async () => {
    const layers = layerDirs();
    expect(layers.length).toBeGreaterThan(0);
    const path = join(dir, "root", "ctr.db");
    copyFileSync(path, `${path}.bak`);
    truncateSync(path, 0);
    const line = await refused(/ctr\.db is empty \(0 bytes\) but .* holds layers, containers or volumes: refusing to start/);
    expect(line).toContain(path);
    expect(line).toContain("Restore");
    expect(layerDirs()).toEqual(layers);
    copyFileSync(`${path}.bak`, path);
    rmSync(`${path}.bak`);
    d = await startDaemon([], { dir });
    expect((await d.ctr(["run", "--rm", bb, "echo", "still-here"])).stdout).toBe("still-here\n");
    expect(layerDirs()).toEqual(layers);
    await d.stop();
  });

  test("a missing ctr.db is refused the same way", async () => {
    const path = join(dir, "root", "ctr.db");
    copyFileSync(path, `${path}.bak`);
    rmSync(path);
    await refused(/ctr\.db is missing but/);
    copyFileSync(`${path}.bak`, path);
    rmSync(`${path}.bak`);
  });

  test("a corrupt ctr.db is refused, naming the file and how to recover", async () => {
    const path = join(dir, "root", "ctr.db");
    copyFileSync(path, `${path}.bak`);
    // Garbage over every page but the header: tables and indexes are unreadable.
    const fd = openSync(path, "r+");
    const junk = Buffer.alloc(statSync(path).size - 4096, 0x5a);
    writeSync(fd, junk, 0, junk.length, 4096);
    closeSync(fd);
    const line = await refused(/ctr\.db is corrupt \(.*\): refusing to start/);
    expect(line).toContain(".recover");
    copyFileSync(`${path}.bak`, path);
    rmSync(`${path}.bak`);
  });

  test("a WAL that lost committed frames after kill -9 is refused; the file restored, the daemon starts with nothing lost", async () => {
    d = await startDaemon([], { dir });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await d.ctr(["create", bb, "true"])).stdout.trim());
    expect((await d.ctr(["rm", ...ids])).code).toBe(0);
    await d.kill9();
    const wal = `${db()}-wal`;
    expect(statSync(wal).size).toBeGreaterThan(32);
    copyFileSync(wal, `${wal}.bak`);
    truncateSync(wal, statSync(wal).size - 3000);
    await refused(/ctr\.db-wal is cut short: it holds \d+ of the \d+ frames that were committed/);
    // The way back the message gives: the original file (nothing lost).
    copyFileSync(`${wal}.bak`, wal);
    rmSync(`${wal}.bak`);
    d = await startDaemon([], { dir });
    const all = (await d.ctr(["ps", "-aq", "--no-trunc"])).stdout;
    for (const id of ids) expect(all).not.toContain(id);
    await d.stop();
  });

  test("what the database does not account for is moved to lost+found; what it lists and lacks is made whole", async () => {
    const root = join(dir, "root");
    // A layer, an rw layer, a container dir and a volume nobody recorded.
    mkdirSync(join(root, "layers", "f".repeat(64), "diff"), { recursive: true });
    writeFileSync(join(root, "layers", "f".repeat(64), "diff", "precious"), "data\n");
    mkdirSync(join(root, "layers", "rw", "e".repeat(64), "upper"), { recursive: true });
    mkdirSync(join(root, "containers", "d".repeat(64)), { recursive: true });
    mkdirSync(join(root, "volumes", "unknown", "_data"), { recursive: true });
    writeFileSync(join(root, "volumes", "unknown", "_data", "precious"), "data\n");
    d = await startDaemon([], { dir });
    expect((await d.ctr(["volume", "create", "listed"])).code).toBe(0);
    const keep = (await d.ctr(["inspect", "-f", "{{.Id}}", "keep"])).stdout.trim();
    await d.stop();
    const lf = join(root, "lost+found");
    const found = (k: string) => (existsSync(join(lf, k)) ? readdirSync(join(lf, k)) : []);
    expect(found("layers")).toEqual([expect.stringMatching(new RegExp(`^${"f".repeat(64)}-`))]);
    expect(readFileSync(join(lf, "layers", found("layers")[0]!, "diff", "precious"), "utf8")).toBe("data\n");
    expect(found("rw")).toEqual([expect.stringMatching(/^e{64}-/)]);
    expect(found("containers")).toEqual([expect.stringMatching(/^d{64}-/)]);
    expect(found("volumes")).toEqual([expect.stringMatching(/^unknown-/)]);
    // Rows whose data went: the volume gets an empty dir, the container without its rw layer is dead.
    rmSync(join(root, "volumes", "listed"), { recursive: true });
    rmSync(join(root, "layers", "rw", keep), { recursive: true });
    d = await startDaemon([], { dir });
    expect(existsSync(join(root, "volumes", "listed", "_data"))).toBe(true);
    expect((await d.ctr(["run", "--rm", "-v", "listed:/v", bb, "ls", "/v"])).code).toBe(0);
    const st = JSON.parse((await d.ctr(["inspect", "-f", "{{json .State}}", "keep"])).stdout);
    expect(st).toMatchObject({ Status: "dead", Dead: true, Error: "the container's rw layer is missing from the store" });
    expect((await d.ctr(["rm", "keep"])).code).toBe(0);
    expect(d.log()).toContain("container store repaired");
    await d.stop();
  });

  test("ctr.db shrinks after mass removals", async () => {
    d = await startDaemon([], { dir });
    // Through the API: 150 CLI processes would cost most of the test.
    const Env = Array.from({ length: 40 }, (_, i) => `V${i}=${"x".repeat(100)}`);
    const ids: string[] = [];
    for (let i = 0; i < 150; i++) ids.push(((await (await d.client.request("POST", "/containers/create", { body: { Image: bb, Cmd: ["true"], Env } })).json()) as { Id: string }).Id);
    const size = () => statSync(db()).size + (existsSync(`${db()}-wal`) ? statSync(`${db()}-wal`).size : 0);
    const full = size();
    expect((await d.ctr(["rm", ...ids])).code).toBe(0);
    await until(() => size() < full / 2, "ctr.db to shrink", 20_000);
    console.log(`ctr.db + wal: ${(full / 1024).toFixed(0)} KiB with 150 containers, ${(size() / 1024).toFixed(0)} KiB after rm`);
    // The daemon's log line may land a moment after the file shrank.
    await until(() => d!.log().includes("database pages reclaimed"), "the reclaim to be logged");
  });
});
