// login, logout and search: the registry side of the CLI. Credentials live in
// ~/.ctr/config.json (docker's `auths` shape; ~/.docker/config.json is read
// too) and go to the daemon per request in X-Registry-Auth, as docker does.
import type { Cli } from "./parser.ts";
import { CliExit, type CliContext } from "./context.ts";
import { table } from "./render.ts";
import { lookupCredentials, removeCredentials, storeCredentials } from "../engine/distribution/credentials.ts";
import { parseNormalized } from "../engine/distribution/reference.ts";
import { loginDomain, splitSearchTerm } from "../engine/distribution/registry-names.ts";

const b64url = (s: string) => Buffer.from(s).toString("base64").replace(/\+/g, "-").replace(/\//g, "_");

/** The X-Registry-Auth header for a registry domain: stored credentials, or `{}`. */
export function authHeaderFor(domain: string): string {
  const c = lookupCredentials(domain);
  if (!c?.username && !c?.identityToken) return "e30=";
  return b64url(JSON.stringify({ username: c.username, password: c.password, identitytoken: c.identityToken, serveraddress: domain }));
}

/** The header for an image reference (`host:5000/x:1` → host:5000's credentials). */
export function authHeaderForRef(ref: string): string {
  try {
    return authHeaderFor(parseNormalized(ref).domain);
  } catch {
    return "e30=";
  }
}

async function readStdin(): Promise<string> {
  return (await new Response(Bun.file("/dev/stdin").stream()).text()).replace(/\r?\n$/, "");
}

export function registerLogin(cli: Cli, ctx: CliContext): void {
  cli
    .command("login [server]", "Authenticate to a registry")
    .option("-u, --username <name>", "Username")
    .option("-p, --password <password>", "Password")
    .option("--password-stdin", "Take the password from stdin")
    .action(async (server: string | undefined, f: { username?: string; password?: string; passwordStdin?: boolean }) => {
      const domain = loginDomain(server ?? "docker.io");
      if (!f.username) throw new CliExit(1, "Error: username is required (-u)");
      const password = f.passwordStdin ? await readStdin() : f.password;
      if (!password) throw new CliExit(1, "Error: password is required (-p or --password-stdin)");
      if (f.password) console.error("WARNING! Using --password via the CLI is insecure. Use --password-stdin.");
      const client = await ctx.client();
      const res = await client.json<{ Status: string }>("POST", "/auth", { body: { username: f.username, password, serveraddress: domain } });
      storeCredentials(domain, { username: f.username, password });
      console.log(res.Status);
    });

  cli.command("logout [server]", "Log out from a registry").action(async (server: string | undefined) => {
    const domain = loginDomain(server ?? "docker.io");
    if (removeCredentials(domain)) console.log(`Removing login credentials for ${domain}`);
    else console.log(`Not logged in to ${domain}`);
  });

  cli
    .command("search <term>", "Search a registry for images (host:port/term for a private registry)")
    .option("--limit <n>", "Max number of search results", { default: 25 })
    .option("--no-trunc", "Don't truncate output")
    .action(async (term: string, f: { limit: number; trunc?: boolean }) => {
      const client = await ctx.client();
      const results = await client.json<{ name: string; description: string; star_count: number; is_official: boolean }[]>("GET", "/images/search", {
        query: { term, limit: f.limit },
        headers: { "X-Registry-Auth": authHeaderFor(splitSearchTerm(term).domain) },
      });
      const desc = (s: string) => (f.trunc === false || s.length <= 45 ? s : `${s.slice(0, 44)}…`);
      console.log(table(["NAME", "DESCRIPTION", "STARS", "OFFICIAL"], results.map((r) => [r.name, desc(r.description), String(r.star_count), r.is_official ? "[OK]" : ""])));
    });
}
