// The registry seam: OCI Distribution / Docker Registry HTTP API v2 over fetch.
// One RegistryClient per daemon holds the token cache and which scheme each
// host answered on; `repository()` gives a client bound to one repository.
import { EngineError, NotFoundError, UnauthorizedError } from "../errors.ts";
import { authorize, parseChallenges, TokenCache, type FetchFn } from "./auth.ts";
import type { Credentials } from "./credentials.ts";
import { endpointsFor, type Endpoint, type RegistryHostsConfig } from "./endpoints.ts";
import { MANIFEST_ACCEPT } from "./manifest.ts";
import { familiarName, familiarString, type Reference } from "./reference.ts";

export interface RegistryClientOptions extends RegistryHostsConfig {
  /** Credentials for a registry host (config.json lookup); per-request creds win. */
  credentials?: (host: string) => Credentials | null;
  fetch?: FetchFn;
  /** Attempts after a connection error (default 5), first backoff in ms (default 250, doubling). */
  retries?: number;
  backoffMs?: number;
  userAgent?: string;
}

/** The registry answered with an error we pass on (status and its error codes). */
export class RegistryError extends EngineError {
  override name = "RegistryError";
  constructor(
    message: string,
    readonly status: number,
    readonly codes: string[] = [],
  ) {
    super(message);
  }
}

/** A connection dropped or failed before the response was complete. */
export class ConnectionError extends EngineError {
  override name = "ConnectionError";
}

export interface FetchedManifest {
  bytes: Uint8Array;
  digest: string;
  mediaType: string | null;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function isConnectionError(e: unknown): boolean {
  if (e instanceof ConnectionError) return true;
  if (e instanceof EngineError) return false;
  const s = `${(e as Error)?.name ?? ""} ${(e as Error)?.message ?? ""} ${(e as { code?: string })?.code ?? ""}`;
  return /ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT|socket|connection|closed|terminated|aborted|network|fetch failed|Unable to connect|TypeError/i.test(s);
}

async function errorCodes(res: Response): Promise<{ codes: string[]; message: string }> {
  try {
    const j = (await res.json()) as { errors?: { code?: string; message?: string }[] };
    const errs = j.errors ?? [];
    return { codes: errs.map((e) => e.code ?? ""), message: errs.map((e) => `${(e.code ?? "").toLowerCase().replace(/_/g, " ")}: ${e.message ?? ""}`).join("; ") };
  } catch {
    return { codes: [], message: res.statusText };
  }
}

export class RegistryClient {
  readonly tokens = new TokenCache();
  /** host → base URL that answered /v2/ (https or, for insecure hosts, http). */
  private readonly bases = new Map<string, string>();
  private readonly fetchFn: FetchFn;
  readonly retries: number;
  readonly backoffMs: number;

  constructor(readonly opts: RegistryClientOptions) {
    this.fetchFn = opts.fetch ?? ((u, i) => fetch(u, i));
    this.retries = opts.retries ?? 5;
    this.backoffMs = opts.backoffMs ?? 250;
  }

  /** A client for one repository; `push` asks for pull,push scope and skips mirrors. */
  repository(ref: Reference, o: { creds?: Credentials | null; push?: boolean } = {}): Repository {
    const creds = o.creds ?? this.opts.credentials?.(ref.domain) ?? null;
    return new Repository(this, ref, endpointsFor(ref.domain, this.opts, !!o.push), creds, !!o.push);
  }

  /** `ctr login`: checks credentials against /v2/ (and the token endpoint). */
  async checkLogin(domain: string, creds: Credentials): Promise<void> {
    const [ep] = endpointsFor(domain, this.opts, true);
    const base = await this.baseFor(ep!);
    const res = await this.send(base, `${base}/v2/`, { method: "GET" }, { scopes: [], creds });
    await res.body?.cancel();
    if (res.status === 401 || res.status === 403) throw new UnauthorizedError(`login to ${domain} failed: unauthorized: incorrect username or password`);
    if (!res.ok) throw new RegistryError(`login to ${domain}: registry answered ${res.status}`, res.status);
  }

  /** Picks https, or http for insecure hosts whose TLS handshake fails (like dockerd's fallback). */
  async baseFor(ep: Endpoint): Promise<string> {
    const known = this.bases.get(ep.url);
    if (known) return known;
    if (!ep.insecure || ep.url.startsWith("http:")) {
      this.bases.set(ep.url, ep.url);
      return ep.url;
    }
    try {
      const res = await this.raw(`${ep.url}/v2/`, { method: "GET", tls: { rejectUnauthorized: false } } as RequestInit);
      await res.body?.cancel();
      this.bases.set(ep.url, ep.url);
      return ep.url;
    } catch {
      const http = ep.url.replace(/^https:/, "http:");
      this.bases.set(ep.url, http);
      return http;
    }
  }

  raw(url: string, init: RequestInit): Promise<Response> {
    const headers = new Headers(init.headers);
    headers.set("User-Agent", this.opts.userAgent ?? "ctr");
    return this.fetchFn(url, { ...init, headers, redirect: init.redirect ?? "follow" });
  }

  /**
   * One request with auth: an up-front Authorization from a known challenge,
   * else answer a 401 challenge once. Connection errors before a response are
   * retried with backoff when `idempotent`.
   */
  async send(
    base: string,
    url: string,
    init: RequestInit,
    a: { scopes: string[]; creds: Credentials | null; idempotent?: boolean },
  ): Promise<Response> {
    const host = new URL(base).host;
    let attempt = 0;
    let answered = false;
    for (;;) {
      const headers = new Headers(init.headers);
      const ch = this.tokens.challenges.get(host);
      if (ch) {
        const h = await authorize(ch, a.scopes, a.creds, this.tokens, this.fetchFn);
        if (h) headers.set("Authorization", h);
      }
      let res: Response;
      try {
        res = await this.raw(url, { ...init, headers });
      } catch (e) {
        if (!a.idempotent || !isConnectionError(e) || attempt >= this.retries) throw new ConnectionError(`${init.method ?? "GET"} ${url}: ${(e as Error).message}`);
        await sleep(this.backoffMs * 2 ** attempt++);
        continue;
      }
      if (res.status === 401 && !answered) {
        const www = res.headers.get("WWW-Authenticate");
        const challenge = www ? parseChallenges(www)[0] : undefined;
        if (challenge) {
          await res.body?.cancel();
          this.tokens.challenges.set(host, challenge);
          answered = true;
          continue;
        }
      }
      if (res.status >= 500 && a.idempotent && attempt < this.retries) {
        await res.body?.cancel();
        await sleep(this.backoffMs * 2 ** attempt++);
        continue;
      }
      return res;
    }
  }
}

/** A client bound to one repository of one registry. */
export class Repository {
  private endpointIdx = 0;

  constructor(
    private readonly client: RegistryClient,
    readonly ref: Reference,
    private readonly endpoints: Endpoint[],
    readonly creds: Credentials | null,
    private readonly push: boolean,
  ) {}

  get scope(): string {
    return `repository:${this.ref.path}:${this.push ? "pull,push" : "pull"}`;
  }

  private async base(): Promise<string> {
    return this.client.baseFor(this.endpoints[this.endpointIdx]!);
  }

  private async url(path: string): Promise<{ base: string; url: string }> {
    const base = await this.base();
    return { base, url: `${base}/v2/${this.ref.path}/${path}` };
  }

  /**
   * Fetches a manifest by tag or digest. Mirrors that fail or lack it fall
   * through to the next endpoint (Docker tries mirrors, then the registry).
   */
  async getManifest(reference: string): Promise<FetchedManifest> {
    for (;;) {
      try {
        return await this.getManifestOnce(reference);
      } catch (e) {
        const ep = this.endpoints[this.endpointIdx]!;
        if (ep.mirror && this.endpointIdx < this.endpoints.length - 1) {
          this.endpointIdx++;
          continue;
        }
        throw e;
      }
    }
  }

  private async getManifestOnce(reference: string): Promise<FetchedManifest> {
    const { base, url } = await this.url(`manifests/${reference}`);
    const res = await this.client.send(base, url, { method: "GET", headers: { Accept: MANIFEST_ACCEPT } }, { scopes: [this.scope], creds: this.creds, idempotent: true });
    if (!res.ok) throw await this.manifestError(res, reference);
    const bytes = new Uint8Array(await res.arrayBuffer());
    const digest = `sha256:${new Bun.CryptoHasher("sha256").update(bytes).digest("hex")}`;
    if (reference.startsWith("sha256:") && digest !== reference) {
      throw new RegistryError(`manifest verification failed for digest ${reference}`, 500);
    }
    return { bytes, digest, mediaType: res.headers.get("Content-Type") };
  }

  /** Docker's wording for the errors a pull shows most. */
  private async manifestError(res: Response, reference: string): Promise<Error> {
    const { codes, message } = await errorCodes(res);
    const shown = familiarString({ ...this.ref, tag: reference.startsWith("sha256:") ? undefined : reference, digest: reference.startsWith("sha256:") ? reference : undefined });
    if (res.status === 404 && (codes.includes("MANIFEST_UNKNOWN") || codes.length === 0) && !codes.includes("NAME_UNKNOWN")) {
      return new NotFoundError(`manifest for ${shown} not found: manifest unknown: manifest unknown`);
    }
    if (res.status === 401 || res.status === 403 || codes.includes("NAME_UNKNOWN") || codes.includes("DENIED")) {
      const verb = this.push ? "push" : "pull";
      const err = `${verb} access denied for ${familiarName(this.ref)}, repository does not exist or may require 'docker login'`;
      return res.status === 404 ? new NotFoundError(`${err}: ${message || "denied: requested access to the resource is denied"}`) : new UnauthorizedError(`${err}: denied: requested access to the resource is denied`);
    }
    return new RegistryError(`error from registry fetching ${shown}: ${res.status} ${message}`, res.status, codes);
  }

  /**
   * Streams a blob from `offset`, resuming after dropped connections with
   * `Range: bytes=N-`. A registry that answers 200 instead of 206 sends the
   * whole blob again; the bytes already delivered are skipped, so callers
   * always see one continuous stream. Verification is the caller's (it hashes).
   */
  async *blob(digest: string, size: number, offset = 0): AsyncGenerator<Uint8Array> {
    let pos = offset;
    let failures = 0;
    while (pos < size || size < 0) {
      let res: Response;
      const { base, url } = await this.url(`blobs/${digest}`);
      const headers: Record<string, string> = pos > 0 ? { Range: `bytes=${pos}-` } : {};
      res = await this.client.send(base, url, { method: "GET", headers }, { scopes: [this.scope], creds: this.creds, idempotent: true });
      if (res.status === 404) {
        await res.body?.cancel();
        throw new NotFoundError(`blob ${digest} not found in ${familiarName(this.ref)}`);
      }
      if (!res.ok) {
        const { message } = await errorCodes(res);
        throw new RegistryError(`fetching blob ${digest}: ${res.status} ${message}`, res.status);
      }
      let skip = 0;
      if (pos > 0 && res.status === 200) skip = pos;
      else if (res.status === 206) {
        const start = Number(/bytes (\d+)-/.exec(res.headers.get("Content-Range") ?? "")?.[1] ?? pos);
        if (start !== pos) skip = pos - start;
        if (skip < 0) throw new RegistryError(`registry resumed blob ${digest} at ${start}, wanted ${pos}`, 416);
      }
      let progressed = false;
      try {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          let c = chunk;
          if (skip > 0) {
            if (c.byteLength <= skip) {
              skip -= c.byteLength;
              continue;
            }
            c = c.subarray(skip);
            skip = 0;
          }
          pos += c.byteLength;
          progressed = true;
          yield c;
        }
        if (size < 0) return;
        if (pos < size) throw new ConnectionError(`connection closed after ${pos} of ${size} bytes of ${digest}`);
      } catch (e) {
        if (!isConnectionError(e)) throw e;
        if (progressed) failures = 0;
        if (failures >= this.client.retries) throw new ConnectionError(`downloading ${digest}: ${(e as Error).message}`);
        await sleep(this.client.backoffMs * 2 ** failures++);
      }
    }
  }

  /** Small blobs (configs) in one piece. */
  async blobBytes(digest: string, size: number): Promise<Uint8Array> {
    const parts: Uint8Array[] = [];
    for await (const c of this.blob(digest, size)) parts.push(c);
    return Buffer.concat(parts);
  }

  // Push ------------------------------------------------------------------

  async hasBlob(digest: string): Promise<boolean> {
    const { base, url } = await this.url(`blobs/${digest}`);
    const res = await this.client.send(base, url, { method: "HEAD" }, { scopes: [this.scope], creds: this.creds, idempotent: true });
    await res.body?.cancel();
    if (res.status === 200) return true;
    if (res.status === 404) return false;
    throw await this.pushError(res, `checking blob ${digest}`);
  }

  /**
   * Cross-repository mount (spec "Mounting a blob from another repository"):
   * 201 means done; 202 means the registry opened an upload instead, whose
   * location we return so the caller uploads there.
   */
  async mountBlob(digest: string, fromPath: string): Promise<{ mounted: true } | { mounted: false; location: string }> {
    const { base, url } = await this.url(`blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(fromPath)}`);
    const scopes = [this.scope, `repository:${fromPath}:pull`];
    const res = await this.client.send(base, url, { method: "POST", headers: { "Content-Length": "0" } }, { scopes, creds: this.creds });
    await res.body?.cancel();
    if (res.status === 201) return { mounted: true };
    if (res.status === 202) return { mounted: false, location: new URL(res.headers.get("Location")!, base).toString() };
    throw await this.pushError(res, `mounting blob ${digest}`);
  }

  async startUpload(): Promise<string> {
    const { base, url } = await this.url("blobs/uploads/");
    const res = await this.client.send(base, url, { method: "POST", headers: { "Content-Length": "0" } }, { scopes: [this.scope], creds: this.creds });
    await res.body?.cancel();
    if (res.status !== 202) throw await this.pushError(res, "starting upload");
    return new URL(res.headers.get("Location")!, base).toString();
  }

  /** Monolithic upload: one PUT with the whole body (a Blob streams from disk). */
  async putBlob(location: string, digest: string, body: Blob): Promise<void> {
    const base = await this.base();
    const u = new URL(location);
    u.searchParams.set("digest", digest);
    const res = await this.client.send(base, u.toString(), { method: "PUT", body, headers: { "Content-Type": "application/octet-stream", "Content-Length": String(body.size) } }, { scopes: [this.scope], creds: this.creds });
    await res.body?.cancel();
    if (res.status !== 201) throw await this.pushError(res, `uploading blob ${digest}`);
  }

  /** Chunked upload: PATCH each chunk with Content-Range, then PUT ?digest= with no body. */
  async putBlobChunked(location: string, digest: string, body: Blob, chunkSize: number, onProgress?: (n: number) => void): Promise<void> {
    const base = await this.base();
    let loc = location;
    for (let start = 0; start < body.size; start += chunkSize) {
      const end = Math.min(start + chunkSize, body.size);
      const part = body.slice(start, end);
      const res = await this.client.send(
        base,
        loc,
        { method: "PATCH", body: part, headers: { "Content-Type": "application/octet-stream", "Content-Range": `${start}-${end - 1}`, "Content-Length": String(end - start) } },
        { scopes: [this.scope], creds: this.creds },
      );
      await res.body?.cancel();
      if (res.status !== 202) throw await this.pushError(res, `uploading chunk of ${digest}`);
      loc = new URL(res.headers.get("Location") ?? loc, base).toString();
      onProgress?.(end);
    }
    const u = new URL(loc);
    u.searchParams.set("digest", digest);
    const res = await this.client.send(base, u.toString(), { method: "PUT", headers: { "Content-Length": "0" } }, { scopes: [this.scope], creds: this.creds });
    await res.body?.cancel();
    if (res.status !== 201) throw await this.pushError(res, `completing upload of ${digest}`);
  }

  /** PUT the manifest bytes unchanged; returns the digest the registry computed. */
  async putManifest(reference: string, bytes: Uint8Array, mediaType: string): Promise<string> {
    const { base, url } = await this.url(`manifests/${reference}`);
    const res = await this.client.send(base, url, { method: "PUT", body: bytes, headers: { "Content-Type": mediaType } }, { scopes: [this.scope], creds: this.creds });
    await res.body?.cancel();
    if (res.status !== 201) throw await this.pushError(res, `putting manifest ${reference}`);
    return res.headers.get("Docker-Content-Digest") ?? `sha256:${new Bun.CryptoHasher("sha256").update(bytes).digest("hex")}`;
  }

  private async pushError(res: Response, what: string): Promise<Error> {
    const { codes, message } = await errorCodes(res);
    if (res.status === 401 || res.status === 403) return new UnauthorizedError(`denied: requested access to the resource is denied (${what})`);
    if (res.status === 404) return new NotFoundError(`${what}: ${message || "not found"}`);
    return new RegistryError(`${what}: ${res.status} ${message}`, res.status, codes);
  }
}
