// Schemas of the Engine API's bodies, shaped like the Go structs dockerd decodes
// them into, so a wrong JSON type is refused with encoding/json's own message
// ("json: cannot unmarshal string into Go struct field ContainerConfigWrapper.Tty
// of type bool") and a client that parses dockerd's errors sees the same text.
// Built on valibot (see the commit that added it for why that library).
import * as v from "valibot";

/** Where a value sits, as Go names it in a type error: the innermost struct and the field path (map keys and indices left out). */
export interface At {
  struct: string;
  path: string[];
}

export type Schema<T> = v.GenericSchema<unknown, T>;
/** A schema factory: Go's error text depends on where the value sits, so a field is built for its place. */
export type Field<T> = (at: At) => Schema<T>;
export type Out<F> = F extends Field<infer T> ? T : never;

/** What every encoding/json type error starts with: these are reported before any rule of dockerd's. */
export const TYPE_ERROR = "json: cannot unmarshal";

function jsonKind(x: unknown): string {
  if (typeof x === "string") return "string";
  if (typeof x === "number") return "number";
  if (typeof x === "boolean") return "bool";
  return Array.isArray(x) ? "array" : "object";
}

/** encoding/json's UnmarshalTypeError text; a number that does not fit an integer type is quoted (`number 1.5`). */
export function typeError(at: At, goType: string, input: unknown, quoteNumber = false): string {
  const what = quoteNumber && typeof input === "number" ? `number ${input}` : jsonKind(input);
  const into = at.path.length ? `Go struct field ${at.struct}.${at.path.join(".")}` : "Go value";
  return `${TYPE_ERROR} ${what} into ${into} of type ${goType}`;
}

function prim<T>(goType: string, ok: (x: unknown) => boolean, quoteNumber = false): Field<T> {
  return (at) => v.custom<T>(ok, (issue) => typeError(at, goType, issue.input, quoteNumber));
}

const isString = (x: unknown): x is string => typeof x === "string";
const integer = (min: number, max: number) => (x: unknown) => typeof x === "number" && Number.isInteger(x) && x >= min && x <= max;

export const string = prim<string>("string", isString);
export const bool = prim<boolean>("bool", (x) => typeof x === "boolean");
export const int = prim<number>("int", integer(-(2 ** 63), 2 ** 63 - 1), true);
export const int64 = prim<number>("int64", integer(-(2 ** 63), 2 ** 63 - 1), true);
export const uint16 = prim<number>("uint16", integer(0, 65535), true);
/** Named uint32 types (os.FileMode is "fs.FileMode" in the Go dockerd is built with). */
export const uint32 = (goType = "uint32") => prim<number>(goType, integer(0, 2 ** 32 - 1), true);
export const uint64 = prim<number>("uint64", integer(0, 2 ** 64 - 1), true);
export const float64 = prim<number>("float64", (x) => typeof x === "number");
/** Go's `interface{}` / json.RawMessage: anything. */
export const any: Field<unknown> = () => v.unknown();

/** Docker's strslice.StrSlice: a string or a list of strings; on failure Go reports the string attempt. */
export const strslice: Field<string[]> = (at) =>
  v.pipe(
    v.custom<string | string[]>((x) => isString(x) || (Array.isArray(x) && x.every(isString)), (i) => typeError(at, "string", i.input)),
    v.transform((x) => (typeof x === "string" ? [x] : x)),
  );

/** A Go slice; elements are reported at the slice's own place. */
export function array<T>(elem: Field<T>, goType: string): Field<T[]> {
  return (at) => v.array(elem(at), (i) => typeError(at, goType, i.input));
}

/** A JSON object (valibot's object and record schemas also take arrays, Go's structs and maps do not). */
function objectOnly(at: At, goType: string) {
  return v.custom<object>((x) => typeof x === "object" && x !== null && !Array.isArray(x), (i) => typeError(at, goType, i.input));
}

/** A Go map with string keys; values are reported at the map's own place. */
export function map<T>(elem: Field<T>, goType: string): Field<Record<string, T>> {
  return (at) => v.pipe(objectOnly(at, goType), v.record(v.string(), elem(at)));
}

/** A fixed-size Go array ([2]uint): encoding/json fills what fits and drops the rest. */
export function tuple(elem: Field<number>, goType: string, n: number): Field<number[]> {
  return (at) => v.pipe(v.array(elem(at), (i) => typeError(at, goType, i.input)), v.transform((a) => a.slice(0, n)));
}

type Fields = Record<string, Field<unknown>>;
export type StructOut<F extends Fields> = { [K in keyof F]?: Out<F[K]> };

/**
 * A Go struct named `name` (its qualified type `goType` appears when the value
 * is not an object). Unknown keys are dropped, as Go does; `null` leaves a
 * field unset, as Go does.
 */
export function struct<F extends Fields>(goType: string, name: string, fields: F): Field<StructOut<F>> {
  return (at) => {
    const entries: Record<string, v.GenericSchema> = {};
    for (const [k, f] of Object.entries(fields)) entries[k] = unsetOnNull(f({ struct: name, path: [...at.path, k] }));
    return v.pipe(objectOnly(at, goType), v.object(entries)) as unknown as Schema<StructOut<F>>;
  };
}

function unsetOnNull<T>(s: Schema<T>): v.GenericSchema<unknown, T | undefined> {
  return v.pipe(v.nullish(s), v.transform((x) => x ?? undefined));
}

/** A rule of dockerd's on a decoded value: `check` answers the error message, or undefined when the value is fine. */
export function rule<T>(f: Field<T>, check: (x: T) => string | undefined): Field<T> {
  return (at) =>
    v.pipe(
      f(at),
      v.check((x) => check(x) === undefined, (i) => check(i.input as T) ?? ""),
    );
}

/** Rules over several fields of one struct, in the order dockerd applies them. */
export function rules<T>(f: Field<T>, checks: ((x: T) => string | undefined)[]): Field<T> {
  const first = (x: T) => {
    for (const c of checks) {
      const m = c(x);
      if (m !== undefined) return m;
    }
    return undefined;
  };
  return rule(f, first);
}

/** Builds a body schema at the top (Go's "Go value of type …" place), once, on first use. */
export function topLevel<T>(f: Field<T>): () => Schema<T> {
  let s: Schema<T> | undefined;
  return () => (s ??= f({ struct: "", path: [] }));
}

export type Validated<T> = { ok: true; value: T } | { ok: false; message: string };

/** Validates a parsed JSON value: encoding/json's type errors first, then dockerd's rules. */
export function validate<T>(schema: Schema<T>, value: unknown): Validated<T> {
  const r = v.safeParse(schema, value);
  if (r.success) return { ok: true, value: r.output };
  const typeIssue = r.issues.find((i) => i.message.startsWith(TYPE_ERROR));
  return { ok: false, message: (typeIssue ?? r.issues[0]).message };
}
