import { Hono } from "hono";
import { API_VERSION, MIN_API_VERSION, VERSION } from "../version.ts";
import type { Engine } from "../engine/engine.ts";
import { onError } from "./errors.ts";
import type { ApiEnv } from "./http.ts";
import { systemRoutes } from "./routes/system.ts";

export type AppEnv = { Bindings: ApiEnv; Variables: { apiVersion?: string } };
export type App = Hono<AppEnv>;

export interface ApiDeps {
  engine: Engine;
}

/** A route module adds its paths to the app; it only parses, runs a job, and shapes the answer. */
export type RouteModule = (app: App, deps: ApiDeps) => void;

const VERSIONED = /^\/v(\d+\.\d+)(\/.*)$/;

/**
 * The Docker Engine API as a Hono app. Paths may carry a `/v1.NN` prefix;
 * routing sees them without it, handlers can read the version.
 */
export function createApp(deps: ApiDeps, modules: RouteModule[] = []): App {
  const app: App = new Hono<AppEnv>({
    getPath: (req) => {
      const path = new URL(req.url).pathname;
      return VERSIONED.exec(path)?.[2] ?? path;
    },
  });
  app.use(async (c, next) => {
    const m = VERSIONED.exec(new URL(c.req.url).pathname);
    if (m) {
      const v = m[1]!;
      if (compareVersions(v, MIN_API_VERSION) < 0) {
        return c.json(
          { message: `client version ${v} is too old. Minimum supported API version is ${MIN_API_VERSION}, please upgrade your client to a newer version` },
          400,
        );
      }
      if (compareVersions(v, API_VERSION) > 0) {
        return c.json({ message: `client version ${v} is too new. Maximum supported API version is ${API_VERSION}` }, 400);
      }
      c.set("apiVersion", v);
    }
    await next();
    if (c.res.headers.get("x-ctr-hijacked")) return;
    c.header("Api-Version", API_VERSION);
    c.header("Docker-Experimental", "false");
    c.header("Ostype", "linux");
    c.header("Server", `ctr/${VERSION} (linux)`);
  });
  app.onError(onError);
  app.notFound((c) => c.json({ message: "page not found" }, 404));
  systemRoutes(app, deps);
  for (const m of modules) m(app, deps);
  return app;
}

export function compareVersions(a: string, b: string): number {
  const [a1 = 0, a2 = 0] = a.split(".").map(Number);
  const [b1 = 0, b2 = 0] = b.split(".").map(Number);
  return a1 - b1 || a2 - b2;
}
