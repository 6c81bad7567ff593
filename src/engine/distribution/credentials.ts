// Registry credentials from config.json files in Docker's format:
//   { "auths": { "<host>": { "auth": base64("user:password"), "identitytoken"?: "…" } } }
// ~/.ctr/config.json is ours (written by `ctr login`), ~/.docker/config.json is
// read too so an existing `docker login` works. Docker Hub's key is the legacy
// "https://index.docker.io/v1/".
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";

export interface Credentials {
  username?: string;
  password?: string;
  /** OAuth refresh token (Docker's identitytoken): exchanged at the token endpoint. */
  identityToken?: string;
  /** A ready bearer token (X-Registry-Auth's registrytoken). */
  registryToken?: string;
}

export const DOCKER_HUB_AUTH_KEY = "https://index.docker.io/v1/";

export function defaultConfigPaths(home = homedir()): string[] {
  return [join(home, ".ctr", "config.json"), join(home, ".docker", "config.json")];
}

/** The key a registry host has in `auths` (Hub keeps its v1 URL). */
export function authKey(host: string): string {
  return host === "docker.io" || host === "index.docker.io" || host === "registry-1.docker.io" ? DOCKER_HUB_AUTH_KEY : host;
}

/** Matches `auths` keys written as host, https://host, https://host/v1/ … */
function keyHost(key: string): string {
  if (key === DOCKER_HUB_AUTH_KEY) return DOCKER_HUB_AUTH_KEY;
  return key.replace(/^https?:\/\//, "").replace(/\/.*$/, "");
}

interface ConfigFile {
  auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string }>;
  [k: string]: unknown;
}

function readConfig(path: string): ConfigFile | null {
  try {
    return JSON.parse(readFileSync(path, "utf8")) as ConfigFile;
  } catch {
    return null;
  }
}

/** Looks the host up in each file in turn; the first match wins. */
export function lookupCredentials(host: string, paths = defaultConfigPaths()): Credentials | null {
  const want = authKey(host);
  for (const p of paths) {
    const auths = readConfig(p)?.auths;
    if (!auths) continue;
    for (const [k, v] of Object.entries(auths)) {
      if (keyHost(k) !== want) continue;
      const c: Credentials = {};
      if (v.auth) {
        const s = Buffer.from(v.auth, "base64").toString("utf8");
        const i = s.indexOf(":");
        if (i > 0) {
          c.username = s.slice(0, i);
          c.password = s.slice(i + 1);
        }
      } else if (v.username) {
        c.username = v.username;
        c.password = v.password;
      }
      if (v.identitytoken) c.identityToken = v.identitytoken;
      if (c.username || c.identityToken) return c;
    }
  }
  return null;
}

/** Writes (or with null removes) the host's entry; the file is 0600, replaced atomically. */
export function storeCredentials(host: string, creds: Credentials | null, path = defaultConfigPaths()[0]!): boolean {
  const cfg = readConfig(path) ?? {};
  const auths = { ...(cfg.auths ?? {}) };
  const key = authKey(host);
  const had = Object.keys(auths).some((k) => keyHost(k) === key);
  for (const k of Object.keys(auths)) if (keyHost(k) === key) delete auths[k];
  if (creds) {
    auths[key] = {
      auth: Buffer.from(`${creds.username ?? ""}:${creds.password ?? ""}`).toString("base64"),
      ...(creds.identityToken ? { identitytoken: creds.identityToken } : {}),
    };
  }
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify({ ...cfg, auths }, null, "\t") + "\n", { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
  return creds ? true : had;
}

/** `ctr logout HOST`: true when an entry was removed. */
export function removeCredentials(host: string, path = defaultConfigPaths()[0]!): boolean {
  if (!existsSync(path)) return false;
  return storeCredentials(host, null, path);
}

/** Decodes Docker's X-Registry-Auth header (base64url JSON); {} and garbage mean anonymous. */
export function decodeRegistryAuth(header: string | null | undefined): Credentials | null {
  if (!header) return null;
  try {
    const j = JSON.parse(Buffer.from(header.replace(/-/g, "+").replace(/_/g, "/"), "base64").toString("utf8"));
    const c: Credentials = {};
    if (j.username) c.username = j.username;
    if (j.password) c.password = j.password;
    if (j.identitytoken) c.identityToken = j.identitytoken;
    if (j.registrytoken) c.registryToken = j.registrytoken;
    return Object.keys(c).length ? c : null;
  } catch {
    return null;
  }
}
