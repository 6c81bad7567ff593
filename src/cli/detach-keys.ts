// The detach keys a client session asks the daemon for: --detach-keys, else the
// config file's `detachKeys` (the docker CLI's ~/.docker/config.json field; ours
// in ~/.ctr/config.json first, $DOCKER_CONFIG honoured), else the daemon's default.

export const detachKeysOption = { flags: "--detach-keys <keys>", description: "Override the key sequence for detaching a container" };

function configFiles(): string[] {
  // $HOME as os.homedir() reads it first; node:os/path are not worth loading for two paths.
  const home = process.env.HOME || (require("node:os") as typeof import("node:os")).homedir();
  const docker = process.env.DOCKER_CONFIG ? `${process.env.DOCKER_CONFIG}/config.json` : `${home}/.docker/config.json`;
  return [`${home}/.ctr/config.json`, docker];
}

/**
 * Read with Bun.file: node:fs would cost every `run` ~1 ms to load (cli/read-text.ts).
 * Asked whether each exists first: a read of a missing file fails slowly (the two
 * reads cost a run without config files 0.8–0.9 ms, exists() 0.07).
 */
export async function detachKeys(flag: string | undefined): Promise<string | undefined> {
  if (flag) return flag;
  for (const f of configFiles()) {
    try {
      const file = Bun.file(f);
      if (!(await file.exists())) continue;
      const keys = ((await file.json()) as { detachKeys?: unknown }).detachKeys;
      if (typeof keys === "string" && keys) return keys;
    } catch {
      // absent or not JSON: the next one
    }
  }
  return undefined;
}
