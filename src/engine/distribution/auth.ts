// Registry authentication (distribution's docs/spec/auth/token.md):
// a 401 carries `WWW-Authenticate: Bearer realm="…",service="…",scope="…"`
// (or `Basic realm="…"`); for Bearer we GET realm?service=…&scope=… (with
// Basic credentials when we have them, anonymously otherwise) and send the
// token back as `Authorization: Bearer …`. Tokens are cached per
// realm/service/scope until shortly before they expire.
import { UnauthorizedError } from "../errors.ts";
import type { Credentials } from "./credentials.ts";

export interface Challenge {
  scheme: "basic" | "bearer";
  params: Record<string, string>;
}

/** Parses one or more challenges of a WWW-Authenticate header (RFC 7235). */
export function parseChallenges(header: string): Challenge[] {
  const out: Challenge[] = [];
  const re = /\s*([A-Za-z]+)\s*((?:[A-Za-z_]+\s*=\s*(?:"(?:[^"\\]|\\.)*"|[^,\s]*)\s*,?\s*)*)/g;
  for (let m = re.exec(header); m && m[0]; m = re.exec(header)) {
    const scheme = m[1]!.toLowerCase();
    const params: Record<string, string> = {};
    const pre = /([A-Za-z_]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g;
    for (let p = pre.exec(m[2] ?? ""); p; p = pre.exec(m[2] ?? "")) {
      params[p[1]!.toLowerCase()] = (p[2] ?? p[3] ?? "").replace(/\\(.)/g, "$1");
    }
    if (scheme === "basic" || scheme === "bearer") out.push({ scheme, params });
  }
  return out;
}

export type FetchFn = (url: string, init?: RequestInit) => Promise<Response>;

interface CachedToken {
  token: string;
  expiresAt: number;
}

/** Tokens shared by every repository client of the process (keyed by realm, service, scope and user). */
export class TokenCache {
  private readonly tokens = new Map<string, CachedToken>();
  /** The last challenge each registry host answered with, to authorise up front next time. */
  readonly challenges = new Map<string, Challenge>();

  get(key: string): string | null {
    const t = this.tokens.get(key);
    if (!t) return null;
    if (t.expiresAt <= Date.now()) {
      this.tokens.delete(key);
      return null;
    }
    return t.token;
  }
  set(key: string, token: string, ttlSeconds: number): void {
    // Renew 10% early; the spec's minimum lifetime is 60 s.
    this.tokens.set(key, { token, expiresAt: Date.now() + Math.max(ttlSeconds, 10) * 900 });
  }
}

/** The Authorization header for a host given its challenge, fetching a token if needed. */
export async function authorize(
  challenge: Challenge,
  scopes: string[],
  creds: Credentials | null,
  cache: TokenCache,
  fetchFn: FetchFn,
): Promise<string | null> {
  if (challenge.scheme === "basic") {
    if (!creds?.username) return null;
    return `Basic ${Buffer.from(`${creds.username}:${creds.password ?? ""}`).toString("base64")}`;
  }
  if (creds?.registryToken) return `Bearer ${creds.registryToken}`;
  const realm = challenge.params.realm;
  if (!realm) throw new UnauthorizedError("registry sent a Bearer challenge without a realm");
  const service = challenge.params.service ?? "";
  const key = [realm, service, scopes.join(" "), creds?.username ?? ""].join("|");
  const cached = cache.get(key);
  if (cached) return `Bearer ${cached}`;
  const url = new URL(realm);
  if (service) url.searchParams.set("service", service);
  for (const s of scopes) url.searchParams.append("scope", s);
  const headers: Record<string, string> = {};
  let res: Response;
  if (creds?.identityToken) {
    // OAuth2 refresh-token grant (token.md "oauth"): POST form to the realm.
    const body = new URLSearchParams({ grant_type: "refresh_token", refresh_token: creds.identityToken, service, client_id: "ctr", scope: scopes.join(" ") });
    res = await fetchFn(realm, { method: "POST", body, headers: { "Content-Type": "application/x-www-form-urlencoded" } });
  } else {
    if (creds?.username) headers.Authorization = `Basic ${Buffer.from(`${creds.username}:${creds.password ?? ""}`).toString("base64")}`;
    if (creds?.username) url.searchParams.set("account", creds.username);
    res = await fetchFn(url.toString(), { headers });
  }
  if (res.status === 401 || res.status === 403) {
    await res.body?.cancel();
    throw new UnauthorizedError(`unauthorized: authentication required (token endpoint ${url.host} answered ${res.status})`);
  }
  if (!res.ok) {
    await res.body?.cancel();
    throw new UnauthorizedError(`token endpoint ${url.host} answered ${res.status}`);
  }
  const j = (await res.json()) as { token?: string; access_token?: string; expires_in?: number };
  const token = j.token ?? j.access_token;
  if (!token) throw new UnauthorizedError(`token endpoint ${url.host} returned no token`);
  cache.set(key, token, j.expires_in ?? 60);
  return `Bearer ${token}`;
}
