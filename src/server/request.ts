import type { Context } from "hono";
import { BadRequestError } from "./errors.ts";

/** Parses a JSON body; an empty body is `{}`; malformed JSON is a 400, never a 500. */
export async function jsonBody<T = Record<string, unknown>>(c: Context): Promise<T> {
  const text = await c.req.text();
  if (text.trim() === "") return {} as T;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new BadRequestError(`invalid JSON body: ${(e as Error).message}`);
  }
  if (v === null || typeof v !== "object" || Array.isArray(v)) {
    throw new BadRequestError("invalid JSON body: expected an object");
  }
  return v as T;
}

/** Docker's boolean query values: 1/true/True are true; absent is the default. */
export function boolQuery(c: Context, name: string, dflt = false): boolean {
  const v = c.req.query(name);
  if (v === undefined || v === "") return dflt;
  return !["0", "false", "False", "no"].includes(v);
}

export function intQuery(c: Context, name: string): number | undefined {
  const v = c.req.query(name);
  if (v === undefined || v === "") return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new BadRequestError(`invalid value for ${name}: ${v}`);
  return n;
}

/** Docker's `filters` query: JSON `{"key":["v"]}` or legacy `{"key":{"v":true}}`. */
export function filtersQuery(c: Context): Record<string, string[]> {
  const raw = c.req.query("filters");
  if (!raw) return {};
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    throw new BadRequestError(`invalid filters: ${raw}`);
  }
  const out: Record<string, string[]> = {};
  for (const [k, vals] of Object.entries((v ?? {}) as Record<string, unknown>)) {
    if (Array.isArray(vals)) out[k] = vals.map(String);
    else if (vals && typeof vals === "object") out[k] = Object.keys(vals);
    else throw new BadRequestError(`invalid filter '${k}'`);
  }
  return out;
}

/** Reads the API version the client asked for in the path (`/v1.44/…`), if any. */
export function apiVersion(c: Context): string | undefined {
  return c.get("apiVersion");
}
