// Registry names as users type them for login and search (no I/O, so the CLI can use them).

/** docker login's server address (`https://index.docker.io/v1/`, `host:port`) → a registry domain. */
export function loginDomain(server: string): string {
  const host = server.replace(/^https?:\/\//, "").replace(/\/.*$/, "");
  return !host || host === "index.docker.io" || host === "registry-1.docker.io" ? "docker.io" : host;
}

/** `host:port/term` searches that registry; a bare term searches docker.io. */
export function splitSearchTerm(term: string): { domain: string; query: string } {
  const slash = term.indexOf("/");
  const first = slash > 0 ? term.slice(0, slash) : "";
  if (first && (first.includes(".") || first.includes(":") || first === "localhost")) return { domain: first, query: term.slice(slash + 1) };
  return { domain: "docker.io", query: term };
}
