import { lstatSync, readdirSync } from "node:fs";
import { join } from "node:path";

/** Bytes of the regular files under `dir`, without crossing into other filesystems (what removal frees). */
export function dirBytes(dir: string): number {
  let dev: number;
  try {
    dev = lstatSync(dir).dev;
  } catch {
    return 0;
  }
  let total = 0;
  const walk = (d: string) => {
    let names: string[] = [];
    try {
      names = readdirSync(d);
    } catch {
      return;
    }
    for (const n of names) {
      try {
        const st = lstatSync(join(d, n));
        if (st.dev !== dev) continue;
        if (st.isDirectory()) walk(join(d, n));
        else total += st.size;
      } catch {}
    }
  };
  walk(dir);
  return total;
}
