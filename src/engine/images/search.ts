// `ctr search` / GET /images/search: the registry's v1 search API where it
// has one (Docker Hub and some mirrors); a distribution v2 registry has none,
// so its /v2/_catalog is filtered instead; otherwise a clear error.
import type { Credentials } from "../distribution/credentials.ts";
import { endpointsFor } from "../distribution/endpoints.ts";
import type { RegistryClient } from "../distribution/registry-client.ts";
import { NotImplementedError } from "../errors.ts";
import { splitSearchTerm } from "../distribution/registry-names.ts";

/** Docker's search result shape. */
export interface SearchResult {
  name: string;
  description: string;
  star_count: number;
  is_official: boolean;
  is_automated: boolean;
}

export async function searchImages(registry: RegistryClient, term: string, limit = 25, creds: Credentials | null = null): Promise<SearchResult[]> {
  const { domain, query } = splitSearchTerm(term);
  const [ep] = endpointsFor(domain, registry.opts);
  const base = await registry.baseFor(ep!);
  const v1 = await registry.send(base, `${base}/v1/search?q=${encodeURIComponent(query)}&n=${limit}`, { method: "GET" }, { scopes: [], creds, idempotent: true });
  if (v1.ok) {
    const j = (await v1.json()) as { results?: Partial<SearchResult>[] };
    return (j.results ?? []).slice(0, limit).map((r) => ({ name: r.name ?? "", description: r.description ?? "", star_count: r.star_count ?? 0, is_official: !!r.is_official, is_automated: !!r.is_automated }));
  }
  await v1.body?.cancel();
  const cat = await registry.send(base, `${base}/v2/_catalog?n=1000`, { method: "GET" }, { scopes: ["registry:catalog:*"], creds, idempotent: true });
  if (!cat.ok) {
    await cat.body?.cancel();
    throw new NotImplementedError(`registry ${domain} does not support search (no /v1/search and no /v2/_catalog: ${cat.status})`);
  }
  const { repositories = [] } = (await cat.json()) as { repositories?: string[] };
  return repositories
    .filter((r) => r.includes(query))
    .slice(0, limit)
    .map((r) => ({ name: domain === "docker.io" ? r : `${domain}/${r}`, description: "", star_count: 0, is_official: false, is_automated: false }));
}
