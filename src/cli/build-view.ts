// What `ctr build` shows. Plain: the daemon's lines as they come (what the
// docker CLI's classic builder prints). On a terminal (--progress=tty, or auto
// on a TTY): a live view like BuildKit's, one line per step with its time,
// the running steps' last output lines under them, redrawn in place. The
// daemon tags each line with its stage there, so stages running at once each
// show their step in flight.
import type { ProgressMessage } from "./pull-progress.ts";

export interface BuildView {
  message(m: ProgressMessage & { stage?: number }): void;
  end(): void;
}

export function plainView(out: { write(s: string): unknown }): BuildView {
  return {
    message(m) {
      if (m.stream !== undefined) out.write(m.stream);
      else if (m.status) out.write(`${m.id ? `${m.id}: ` : ""}${m.status}${m.progress ? ` ${m.progress}` : ""}\n`);
    },
    end() {},
  };
}

interface StepRow {
  n: number;
  label: string;
  start: number;
  end?: number;
  cached: boolean;
  output: string[];
}

const TAIL = 6;

export function ttyView(out: { write(s: string): unknown; columns?: number }): BuildView {
  const t0 = Date.now();
  const rows: StepRow[] = [];
  const current = new Map<number, StepRow>();
  const pending = new Map<number, string>();
  const final: string[] = [];
  let total = 0;
  let drawn = 0;
  const width = () => Math.max(40, (out.columns ?? 100) - 1);
  const cut = (s: string) => (s.length > width() ? s.slice(0, width() - 1) + "…" : s);
  const secs = (ms: number) => `${(ms / 1000).toFixed(1)}s`;
  const draw = () => {
    const lines: string[] = [];
    const done = rows.filter((r) => r.end !== undefined).length;
    lines.push(`[+] Building ${secs(Date.now() - t0)} (${done}/${total || rows.length})`);
    for (const r of [...rows].sort((a, b) => a.n - b.n)) {
      const t = secs((r.end ?? Date.now()) - r.start);
      const head = ` => ${r.cached ? "CACHED " : ""}${r.label}`;
      lines.push(cut(head.padEnd(width() - t.length - 1) + " " + t));
      if (r.end === undefined) for (const o of r.output.slice(-TAIL)) lines.push(cut(` => => ${o}`));
    }
    out.write(`${drawn ? `\x1b[${drawn}A` : ""}${lines.map((l) => `\x1b[2K${l}`).join("\n")}\n`);
    drawn = lines.length;
  };
  const timer = setInterval(draw, 100);
  const finish = (stage: number) => {
    const c = current.get(stage);
    if (c && c.end === undefined) c.end = Date.now();
  };
  const line = (stage: number, text: string) => {
    const step = /^Step (\d+)\/(\d+) : (.*)$/.exec(text);
    if (step) {
      finish(stage);
      total = Number(step[2]);
      const r: StepRow = { n: Number(step[1]), label: `[${step[1]}/${step[2]}] ${step[3]}`, start: Date.now(), cached: false, output: [] };
      rows.push(r);
      current.set(stage, r);
    } else if (text === " ---> Using cache") {
      const c = current.get(stage);
      if (c) c.cached = true;
    } else if (/^ ---> [0-9a-f]{12}$/.test(text)) finish(stage);
    else if (/^(Successfully|\[Warning\])/.test(text)) final.push(text);
    else if (!/^( ---> Running in |Removing intermediate container )/.test(text)) current.get(stage)?.output.push(text);
  };
  return {
    message(m) {
      const stage = m.stage ?? -1;
      if (m.status) {
        current.get(stage)?.output.push(`${m.id ? `${m.id}: ` : ""}${m.status}`);
        return;
      }
      if (m.stream === undefined) return;
      let buf = (pending.get(stage) ?? "") + m.stream;
      let nl: number;
      while ((nl = buf.indexOf("\n")) >= 0) {
        line(stage, buf.slice(0, nl));
        buf = buf.slice(nl + 1);
      }
      pending.set(stage, buf);
      draw();
    },
    end() {
      clearInterval(timer);
      for (const s of current.keys()) finish(s);
      draw();
      for (const l of final) out.write(`${l}\n`);
    },
  };
}
