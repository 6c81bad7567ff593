import { describe, expect, test } from "bun:test";
import { Engine, defineJob, jobType, handle } from "../../../src/engine/engine.ts";
import { NotFoundError } from "../../../src/engine/errors.ts";

describe("Engine job registry", () => {
  test("runs a registered job and records it like a process", async () => {
    const engine = new Engine();
    const add = defineJob<{ a: number; b: number }, number>("add", (_ctx, { a, b }) => a + b);
    engine.register(add);
    expect(await engine.run(add, { a: 2, b: 3 })).toBe(5);
    const [job] = engine.jobs();
    expect(job).toMatchObject({ id: 1, name: "add", args: ["a=2", "b=3"], status: "succeeded", exitStatus: 0 });
    expect(job!.endedAt).toBeString();
  });

  test("a failing job keeps its error and exit status", async () => {
    const engine = new Engine();
    const boom = defineJob<void, void>("boom", () => {
      throw new Error("kaput");
    });
    engine.register(boom);
    await expect(engine.run(boom, undefined)).rejects.toThrow("kaput");
    expect(engine.jobs()[0]).toMatchObject({ status: "failed", exitStatus: 1, error: "kaput" });
  });

  test("typed job names resolve through the registry, so handlers can be swapped", async () => {
    const T = jobType<string, string>("echo");
    const engine = new Engine().register(handle(T, (_c, s) => s.toUpperCase()));
    expect(await engine.run(T, "hi")).toBe("HI");
    await expect(new Engine().run(T, "x")).rejects.toBeInstanceOf(NotFoundError);
  });

  test("job output can be followed, including what was written before", async () => {
    const engine = new Engine();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const job = defineJob<void, void>("talk", async (ctx) => {
      ctx.stdout.write({ n: 1 });
      await gate;
      ctx.stdout.write({ n: 2 });
    });
    engine.register(job);
    const seen: unknown[] = [];
    let following!: Promise<void>;
    const done = engine.run(job, undefined, {
      onStart: (ctx) => {
        following = ctx.stdout.follow((c) => seen.push(c));
      },
    });
    release();
    await done;
    await following;
    expect(seen).toEqual([{ n: 1 }, { n: 2 }]);
  });

  test("a running job is listed as running with its progress", async () => {
    const engine = new Engine();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const slow = defineJob<void, void>("pull", async (ctx) => {
      ctx.setProgress("2/3 layers");
      await gate;
    });
    engine.register(slow);
    const p = engine.run(slow, undefined);
    await Bun.sleep(0);
    expect(engine.jobs()[0]).toMatchObject({ name: "pull", status: "running", progress: "2/3 layers" });
    release();
    await p;
  });
});
