// The detach keys a client session asks the daemon for: --detach-keys, else the
// config file's `detachKeys` (the docker CLI's ~/.docker/config.json field; ours
// in ~/.ctr/config.json first, $DOCKER_CONFIG honoured), else the daemon's default.
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

export const detachKeysOption = { flags: "--detach-keys <keys>", description: "Override the key sequence for detaching a container" };

function configFiles(): string[] {
  const home = homedir();
  const docker = process.env.DOCKER_CONFIG ? join(process.env.DOCKER_CONFIG, "config.json") : join(home, ".docker", "config.json");
  return [join(home, ".ctr", "config.json"), docker];
}

export function detachKeys(flag: string | undefined): string | undefined {
  if (flag) return flag;
  for (const f of configFiles()) {
    try {
      const keys = (JSON.parse(readFileSync(f, "utf8")) as { detachKeys?: unknown }).detachKeys;
      if (typeof keys === "string" && keys) return keys;
    } catch {
      // absent or not JSON: the next one
    }
  }
  return undefined;
}
