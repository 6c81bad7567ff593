import type { Context } from "hono";
import { BadRequestError, PayloadTooLargeError } from "./errors.ts";
import { validate, type Schema } from "./schemas/go-json.ts";
import { parseJsonText, type GoReader } from "./schemas/json-text.ts";
import { atoi } from "./schemas/params.ts";
import { MAX_JSON_BODY } from "./limits.ts";


/** Reads a body as text, up to `limit` bytes; more is a 413 before it is buffered. */
export async function bodyText(c: Context, limit = MAX_JSON_BODY): Promise<string> {
  const declared = Number(c.req.header("content-length") ?? 0);
  if (declared > limit) throw new PayloadTooLargeError(`request body too large: ${declared} bytes, at most ${limit} for this request`);
  const body = c.req.raw.body;
  if (!body) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      throw new PayloadTooLargeError(`request body too large: more than ${limit} bytes for this request`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** Parses a JSON text with Go's limits; an empty body is `{}`. */
export function parseJson(text: string, reader: GoReader = "decoder"): unknown {
  if (text.trim() === "") return {};
  const r = parseJsonText(text, reader);
  if (!r.ok) throw new BadRequestError(r.message);
  return r.value;
}

/** Reads, parses and validates a JSON body against an Engine API schema: a 400 with dockerd's message when it does not fit. */
export async function decodeBody<T>(c: Context, schema: () => Schema<T>): Promise<T> {
  const r = validate(schema(), parseJson(await bodyText(c)));
  if (!r.ok) throw new BadRequestError(r.message);
  return r.value;
}

/** Parses a JSON body without a schema (bodies ctr passes through); an empty body is `{}`; malformed JSON is a 400. */
export async function jsonBody<T = Record<string, unknown>>(c: Context): Promise<T> {
  const v = parseJson(await bodyText(c));
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

/** An integer query value, read as dockerd reads it (strconv.Atoi, with Go's error text). */
export function intQuery(c: Context, name: string): number | undefined {
  return atoi(c.req.query(name));
}

/** Docker's `filters` query: JSON `{"key":["v"]}` or legacy `{"key":{"v":true}}`. */
export function filtersQuery(c: Context): Record<string, string[]> {
  const raw = c.req.query("filters");
  if (!raw) return {};
  const v = parseJson(raw, "unmarshal");
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
