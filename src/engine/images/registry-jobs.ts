// Jobs that talk to a registry without touching the store: login check and search.
import { handle, jobType, type JobDef } from "../engine.ts";
import type { Credentials } from "../distribution/credentials.ts";
import type { RegistryClient } from "../distribution/registry-client.ts";
import { searchImages, type SearchResult } from "./search.ts";
import { loginDomain } from "../distribution/registry-names.ts";

export const AuthJob = jobType<{ server: string; creds: Credentials }, { Status: string; IdentityToken: string }>("auth");
export const SearchJob = jobType<{ term: string; limit?: number; creds?: Credentials | null }, SearchResult[]>("search");

export function registryJobs(registry: RegistryClient): JobDef<any, any>[] {
  return [
    handle(
      AuthJob,
      async (_c, a) => {
        await registry.checkLogin(loginDomain(a.server), a.creds);
        return { Status: "Login Succeeded", IdentityToken: "" };
      },
      (a) => [a.server, a.creds.username ?? ""],
    ),
    handle(SearchJob, (_c, a) => searchImages(registry, a.term, a.limit, a.creds ?? null), (a) => [a.term]),
  ];
}
