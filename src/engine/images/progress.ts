// Docker's JSON progress messages (pkg/jsonmessage): what `docker pull`/`push`
// render, and what our API streams. Sizes as go-units' HumanSize (decimal,
// 4 significant digits), the bar 50 characters wide as JSONProgress.String().

export interface ProgressMessage {
  status: string;
  id?: string;
  progressDetail?: { current?: number; total?: number };
  progress?: string;
}

const UNITS = ["B", "kB", "MB", "GB", "TB", "PB"];

/** go-units HumanSize: 1.082MB, 512B, 3.4kB. */
export function humanSize(n: number): string {
  let i = 0;
  let v = n;
  while (v >= 1000 && i < UNITS.length - 1) {
    v /= 1000;
    i++;
  }
  return `${Number(v.toPrecision(4))}${UNITS[i]}`;
}

/** "[=====>      ]  1.08MB/2.2MB" */
export function progressBar(current: number, total: number): string {
  if (total <= 0) return humanSize(current).padStart(8);
  const pct = Math.min(50, Math.floor(Math.floor((current / total) * 100) / 2));
  const bar = `[${"=".repeat(pct)}>${" ".repeat(Math.max(0, 50 - pct))}] `;
  return `${bar}${humanSize(current).padStart(8)}/${humanSize(total)}`;
}

export function shortId(digest: string): string {
  return digest.replace(/^sha256:/, "").slice(0, 12);
}

export function status(status: string, id?: string): ProgressMessage {
  return id === undefined ? { status } : { status, progressDetail: {}, id };
}

export function progress(statusText: string, id: string, current: number, total: number): ProgressMessage {
  return { status: statusText, progressDetail: { current, total }, progress: progressBar(current, total), id };
}
