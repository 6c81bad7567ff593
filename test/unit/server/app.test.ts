import { describe, expect, test } from "bun:test";
import { Engine, defineJob } from "../../../src/engine/engine.ts";
import { createApp } from "../../../src/server/app.ts";
import { systemJobs, type SystemFacts } from "../../../src/engine/system/jobs.ts";
import { jsonBody } from "../../../src/server/request.ts";
import { ConflictError, NotFoundError } from "../../../src/engine/errors.ts";

const facts: SystemFacts = {
  id: "TEST:ID",
  rootDir: "/tmp/root",
  execRoot: "/tmp/run",
  driver: "vfs",
  driverStatus: [],
  cgroupVersion: "1",
  insecureRegistries: [],
  mirrors: [],
  counts: () => ({ containers: 2, running: 1, paused: 0, stopped: 1, images: 3 }),
  securityOptions: ["name=seccomp,profile=default"],
  schemaVersion: () => 7,
};

function app() {
  const engine = new Engine();
  engine.register(...systemJobs(facts, engine));
  const echo = defineJob<Record<string, unknown>, unknown>("echo", (_c, a) => a);
  engine.register(echo);
  const a = createApp({ engine }, [
    (app) => {
      app.post("/echo", async (c) => c.json(await engine.run(echo, await jsonBody(c))));
      app.get("/missing", () => {
        throw new NotFoundError("No such container: x");
      });
      app.get("/conflict", () => {
        throw new ConflictError("name in use");
      });
    },
  ]);
  return { a, engine };
}

describe("API app", () => {
  test("HEAD and GET /_ping carry the headers the docker CLI negotiates with", async () => {
    const { a } = app();
    for (const method of ["HEAD", "GET"]) {
      const r = await a.request("/_ping", { method });
      expect(r.status).toBe(200);
      expect(r.headers.get("Api-Version")).toBe("1.51");
      expect(r.headers.get("Ostype")).toBe("linux");
      expect(r.headers.get("Docker-Experimental")).toBe("false");
      expect(r.headers.get("Server")).toMatch(/^ctr\/.+ \(linux\)$/);
      expect(await r.text()).toBe(method === "GET" ? "OK" : "");
    }
  });

  test("versioned and unversioned paths reach the same route", async () => {
    const { a } = app();
    const v1 = await (await a.request("/v1.44/version")).json();
    const v2 = await (await a.request("/version")).json();
    expect(v1).toEqual(v2);
    expect(v1).toMatchObject({ ApiVersion: "1.51", MinAPIVersion: "1.24", Os: "linux" });
  });

  test("too old an API version is refused with 400", async () => {
    const { a } = app();
    const r = await a.request("/v1.12/version");
    expect(r.status).toBe(400);
    expect(((await r.json()) as { message: string }).message).toContain("too old");
  });

  test("info reports counts and facts", async () => {
    const { a } = app();
    const i = await (await a.request("/v1.50/info")).json();
    expect(i).toMatchObject({ ID: "TEST:ID", Containers: 2, ContainersRunning: 1, Images: 3, Driver: "vfs", DockerRootDir: "/tmp/root" });
  });

  test("unknown path is 404 with a message; malformed JSON is 400; typed errors map", async () => {
    const { a } = app();
    const nf = await a.request("/v1.50/nope");
    expect(nf.status).toBe(404);
    expect(await nf.json()).toEqual({ message: "page not found" });
    const bad = await a.request("/echo", { method: "POST", body: '{"a":', headers: { "Content-Type": "application/json" } });
    expect(bad.status).toBe(400);
    // encoding/json's words for a truncated body, as dockerd answers them
    expect(((await bad.json()) as { message: string }).message).toBe("unexpected EOF");
    const ok = await a.request("/echo", { method: "POST", body: '{"x":1}\n' });
    expect(await ok.json()).toEqual({ x: 1 });
    expect((await a.request("/missing")).status).toBe(404);
    expect(await (await a.request("/conflict")).json()).toEqual({ message: "name in use" });
    expect((await a.request("/conflict")).status).toBe(409);
  });

  test("every route runs as a job listed by /jobs", async () => {
    const { a } = app();
    await a.request("/version");
    await a.request("/info");
    const jobs = (await (await a.request("/jobs")).json()) as { name: string; status: string }[];
    expect(jobs.map((j) => j.name)).toEqual(["version", "info", "jobs"]);
    expect(jobs.slice(0, 2).every((j) => j.status === "succeeded")).toBe(true);
  });
});
