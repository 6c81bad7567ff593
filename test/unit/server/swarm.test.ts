import { describe, expect, test } from "bun:test";
import { Engine } from "../../../src/engine/engine.ts";
import { createApp } from "../../../src/server/app.ts";
import { swarmRoutes } from "../../../src/server/routes/swarm.ts";

// What Debian's dockerd 20.10 answers when it is not part of a swarm (asked with curl).
const NOT_MANAGER = 'This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.';

describe("swarm endpoints answer as a dockerd outside a swarm", () => {
  const app = createApp({ engine: new Engine() }, [swarmRoutes]);
  const ask = async (method: string, path: string) => {
    const r = await app.request(path, { method, ...(method === "POST" ? { body: "{}", headers: { "Content-Type": "application/json" } } : {}) });
    return [r.status, ((await r.json()) as { message: string }).message];
  };

  test("reads, creates and removals of swarm objects: 503, not a manager", async () => {
    for (const [m, p] of [
      ["GET", "/v1.41/swarm"], ["GET", "/nodes"], ["GET", "/v1.41/services"], ["GET", "/tasks"], ["GET", "/secrets"], ["GET", "/configs"],
      ["GET", "/swarm/unlockkey"], ["GET", "/nodes/x"], ["GET", "/services/x"], ["GET", "/tasks/x"], ["GET", "/secrets/x"], ["GET", "/configs/x"],
      ["POST", "/services/create"], ["POST", "/secrets/create"], ["POST", "/configs/create"], ["POST", "/swarm/unlock"],
      ["DELETE", "/nodes/x"], ["DELETE", "/services/x"], ["DELETE", "/secrets/x"], ["DELETE", "/configs/x"],
    ]) expect([m, p, ...(await ask(m!, p!))]).toEqual([m, p, 503, NOT_MANAGER]);
  });

  test("leave: not part of a swarm; init and join: not supported", async () => {
    expect(await ask("POST", "/swarm/leave")).toEqual([503, "This node is not part of a swarm"]);
    expect(await ask("POST", "/swarm/init")).toEqual([501, "ctr does not support swarm mode"]);
    expect(await ask("POST", "/swarm/join")).toEqual([501, "ctr does not support swarm mode"]);
  });
});
