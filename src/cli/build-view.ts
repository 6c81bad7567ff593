// What `ctr build` shows. Plain: the daemon's lines as they come (what the
// docker CLI's classic builder prints). On a terminal (--progress=tty, or auto
// on a TTY): a live view like BuildKit's, one line per step with its time,
// the running step's last output lines under it, redrawn in place.
import type { ProgressMessage } from "./pull-progress.ts";

export interface BuildView {
  message(m: ProgressMessage): void;
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
  label: string;
  start: number;
  end?: number;
  cached: boolean;
  output: string[];
}

const TAIL = 6;

export function ttyView(out: { write(s: string): unknown; columns?: number }): BuildView {
  const t0 = Date.now();
  const steps: StepRow[] = [];
  const final: string[] = [];
  let total = 0;
  let drawn = 0;
  let pending = "";
  const width = () => Math.max(40, (out.columns ?? 100) - 1);
  const cut = (s: string) => (s.length > width() ? s.slice(0, width() - 1) + "…" : s);
  const secs = (ms: number) => `${(ms / 1000).toFixed(1)}s`;
  const draw = () => {
    const lines: string[] = [];
    const done = steps.filter((s) => s.end !== undefined).length;
    lines.push(`[+] Building ${secs(Date.now() - t0)} (${done}/${total || steps.length})`);
    for (const s of steps) {
      const t = secs((s.end ?? Date.now()) - s.start);
      const head = ` => ${s.cached ? "CACHED " : ""}${s.label}`;
      lines.push(cut(head.padEnd(width() - t.length - 1) + " " + t));
      if (s.end === undefined) for (const o of s.output.slice(-TAIL)) lines.push(cut(` => => ${o}`));
    }
    out.write(`${drawn ? `\x1b[${drawn}A` : ""}${lines.map((l) => `\x1b[2K${l}`).join("\n")}\n`);
    drawn = lines.length;
  };
  const timer = setInterval(draw, 100);
  const current = () => steps.at(-1);
  const finishCurrent = () => {
    const c = current();
    if (c && c.end === undefined) c.end = Date.now();
  };
  return {
    message(m) {
      if (m.status) {
        current()?.output.push(`${m.id ? `${m.id}: ` : ""}${m.status}`);
        return;
      }
      if (m.stream === undefined) return;
      pending += m.stream;
      let nl: number;
      while ((nl = pending.indexOf("\n")) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        const step = /^Step (\d+)\/(\d+) : (.*)$/.exec(line);
        if (step) {
          finishCurrent();
          total = Number(step[2]);
          steps.push({ label: `[${step[1]}/${step[2]}] ${step[3]}`, start: Date.now(), cached: false, output: [] });
        } else if (line === " ---> Using cache") {
          const c = current();
          if (c) c.cached = true;
        } else if (/^ ---> [0-9a-f]{12}$/.test(line)) finishCurrent();
        else if (/^(Successfully|\[Warning\])/.test(line)) final.push(line);
        else if (!/^( ---> Running in |Removing intermediate container )/.test(line)) current()?.output.push(line);
      }
      draw();
    },
    end() {
      clearInterval(timer);
      finishCurrent();
      draw();
      for (const l of final) out.write(`${l}\n`);
    },
  };
}
