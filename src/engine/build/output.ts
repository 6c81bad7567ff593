// The build's JSON-lines answer, as dockerd's classic builder writes it
// (../shared/reference/docker-build-api-traffic.md): `Step N/M : …`, ` ---> id`,
// RUN output, `Removing intermediate container`, an aux ID per stage,
// `Successfully built/tagged`. Stages may run at once; each one's lines are
// held until the stages before it are done, so the stream reads in order.

export interface BuildMessage {
  stream?: string;
  status?: string;
  id?: string;
  progress?: string;
  progressDetail?: Record<string, unknown>;
  aux?: { ID: string };
  errorDetail?: { code?: number; message: string };
  error?: string;
  /** Only in the live form: the stage the line belongs to. */
  stage?: number;
}

export const short = (id: string) => id.replace(/^sha256:/, "").slice(0, 12);

/** Go's encoding/json escapes <, > and & (the reference shows ` ---\u003e`). */
export function goJson(v: unknown): string {
  return JSON.stringify(v).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

export class BuildOutput {
  private readonly held = new Map<number, BuildMessage[]>();
  private readonly closed = new Set<number>();
  private pos = 0;

  /** `order`: the stages that run, in Dockerfile order. */
  constructor(
    private readonly emit: (m: BuildMessage) => void,
    private readonly order: number[],
    readonly quiet: boolean,
  ) {}

  /** Live: every message goes out at once, tagged with its stage (ctr's live view asks for this). */
  live = false;

  /** A message of stage `i`: out now if every earlier stage is done, else held. */
  write(i: number, m: BuildMessage): void {
    if (this.quiet && !m.errorDetail) return;
    if (this.live) return this.emit({ ...m, stage: i });
    if (this.order[this.pos] === i || i < 0) return this.emit(m);
    const list = this.held.get(i) ?? [];
    list.push(m);
    this.held.set(i, list);
  }

  close(i: number): void {
    this.closed.add(i);
    while (this.pos < this.order.length && this.closed.has(this.order[this.pos]!)) {
      this.pos++;
      const next = this.order[this.pos];
      if (next === undefined) break;
      for (const m of this.held.get(next) ?? []) this.emit(m);
      this.held.delete(next);
    }
  }

  /** On failure: whatever is held goes out in order, before the error. */
  flushAll(): void {
    for (const i of this.order.slice(this.pos)) {
      for (const m of this.held.get(i) ?? []) this.emit(m);
      this.held.delete(i);
    }
    this.pos = this.order.length;
  }

  /** Lines not tied to a stage (the final ones). */
  final(m: BuildMessage): void {
    if (this.quiet && !m.errorDetail) return;
    this.emit(m);
  }

  stage(i: number): StageLog {
    return new StageLog((m) => this.write(i, m));
  }
}

export class StageLog {
  constructor(private readonly out: (m: BuildMessage) => void) {}

  step(n: number, total: number, original: string): void {
    this.out({ stream: `Step ${n}/${total} : ${original}` });
    this.out({ stream: "\n" });
  }
  text(s: string): void {
    this.out({ stream: s });
  }
  message(m: BuildMessage): void {
    this.out(m);
  }
  result(id: string): void {
    this.out({ stream: ` ---> ${short(id)}\n` });
  }
  cached(id: string): void {
    this.out({ stream: " ---> Using cache\n" });
    this.result(id);
  }
  running(containerId: string): void {
    this.out({ stream: ` ---> Running in ${short(containerId)}\n` });
  }
  removing(containerId: string): void {
    this.out({ stream: `Removing intermediate container ${short(containerId)}\n` });
  }
  aux(id: string): void {
    this.out({ aux: { ID: id } });
  }
}
