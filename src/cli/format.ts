// A small subset of Go's text/template as docker's --format uses it:
// {{.Field}}, {{.A.B}}, {{json .}}, {{json .X}}, {{index .M "key"}},
// {{upper .X}}/{{lower .X}}, {{join .L ","}}, the `table` prefix and \t.

type Value = unknown;

function lookup(data: Value, path: string): Value {
  if (path === ".") return data;
  let cur: Value = data;
  for (const part of path.replace(/^\./, "").split(".")) {
    if (cur === null || cur === undefined || typeof cur !== "object") return undefined;
    cur = (cur as Record<string, Value>)[part];
  }
  return cur;
}

function show(v: Value): string {
  if (v === undefined || v === null) return "<no value>";
  if (typeof v === "object") {
    if (Array.isArray(v)) return `[${v.map(show).join(" ")}]`;
    return `map[${Object.entries(v as Record<string, Value>).sort(([a], [b]) => a.localeCompare(b)).map(([k, x]) => `${k}:${show(x)}`).join(" ")}]`;
  }
  return String(v);
}

function arg(token: string, data: Value): Value {
  if (/^".*"$/.test(token)) return JSON.parse(token);
  return lookup(data, token);
}

function evalAction(expr: string, data: Value): string {
  const tokens = expr.match(/"[^"]*"|\S+/g) ?? [];
  const [head, ...rest] = tokens;
  switch (head) {
    case "json":
      return JSON.stringify(arg(rest[0] ?? ".", data) ?? null);
    case "index": {
      const m = arg(rest[0]!, data) as Record<string, Value> | Value[] | undefined;
      const k = arg(rest[1]!, data) as string | number;
      return show(m ? (m as Record<string, Value>)[k as string] : undefined);
    }
    case "upper":
      return show(arg(rest[0]!, data)).toUpperCase();
    case "lower":
      return show(arg(rest[0]!, data)).toLowerCase();
    case "join":
      return ((arg(rest[0]!, data) as Value[]) ?? []).map(show).join(String(arg(rest[1] ?? '""', data)));
    default:
      if (head && head.startsWith(".")) return show(lookup(data, head));
      throw new Error(`template: unsupported action {{${expr}}}`);
  }
}

export function renderTemplate(tpl: string, data: Value): string {
  return tpl.replace(/\\t/g, "\t").replace(/\\n/g, "\n").replace(/\{\{\s*(.*?)\s*\}\}/g, (_m, expr: string) => evalAction(expr, data));
}

/** Renders rows with a --format template; `table …` aligns columns and prints a header from `headers`. */
export function formatRows(format: string, rows: Value[], headers: Record<string, string>): string {
  const isTable = format.startsWith("table");
  const tpl = isTable ? format.replace(/^table\s*/, "") : format;
  const lines = rows.map((r) => renderTemplate(tpl, r));
  if (!isTable) return lines.join("\n");
  const header = tpl.replace(/\\t/g, "\t").replace(/\{\{\s*\.(\w+)\s*\}\}/g, (_m, f: string) => headers[f] ?? f.toUpperCase());
  const cells = [header, ...lines].map((l) => l.split("\t"));
  const widths: number[] = [];
  for (const row of cells) row.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return cells.map((row) => row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i]! + 3))).join("").trimEnd()).join("\n");
}
