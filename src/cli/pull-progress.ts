import { authHeaderForRef } from "./login.ts";
import type { Writable } from "node:stream";
import type { ApiClient } from "../client/client.ts";

export interface ProgressMessage {
  status?: string;
  id?: string;
  progress?: string;
  progressDetail?: { current?: number; total?: number };
  stream?: string;
  error?: string;
  errorDetail?: { message: string };
  aux?: unknown;
}

/** A failure reported inside a JSON progress stream (the HTTP status was already 200). */
export class StreamError extends Error {}

/** Splits a JSON-lines body and calls `onMessage` per message. */
export async function readJsonLines(body: ReadableStream<Uint8Array>, onMessage: (m: ProgressMessage) => void): Promise<void> {
  const dec = new TextDecoder();
  let buf = "";
  for await (const chunk of body) {
    buf += dec.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (line) onMessage(JSON.parse(line));
    }
  }
  if (buf.trim()) onMessage(JSON.parse(buf));
}

/**
 * Renders Docker's progress messages: on a terminal one line per layer,
 * redrawn in place; otherwise each status change once (no bars).
 */
export class ProgressRenderer {
  private readonly order: string[] = [];
  private readonly lines = new Map<string, string>();
  private readonly tty: boolean;

  constructor(private readonly out: Writable & { isTTY?: boolean }) {
    this.tty = !!out.isTTY;
  }

  handle(m: ProgressMessage): void {
    if (m.errorDetail || m.error) throw new StreamError(m.errorDetail?.message ?? m.error);
    if (m.stream) return void this.out.write(m.stream);
    if (!m.status) return;
    if (!m.id) return void this.out.write(`${m.status}\n`);
    const text = `${m.id}: ${m.status}${m.progress ? ` ${m.progress}` : ""}`;
    if (!this.tty) {
      if (m.progress) return; // bars are for terminals
      if (this.lines.get(m.id) === text) return;
      this.lines.set(m.id, text);
      return void this.out.write(text + "\n");
    }
    if (!this.lines.has(m.id)) {
      this.order.push(m.id);
      this.lines.set(m.id, text);
      this.out.write(text + "\n");
      return;
    }
    this.lines.set(m.id, text);
    const up = this.order.length - this.order.indexOf(m.id);
    this.out.write(`\x1b[${up}A\x1b[2K\r${text}\x1b[${up}B\r`);
  }
}

/** Splits `name[:tag][@digest]` the way the docker CLI sends fromImage and tag. */
export function splitTag(ref: string): { name: string; tag: string } {
  const at = ref.indexOf("@");
  if (at >= 0) return { name: ref.slice(0, at), tag: ref.slice(at + 1) };
  const slash = ref.lastIndexOf("/");
  const colon = ref.lastIndexOf(":");
  if (colon > slash) return { name: ref.slice(0, colon), tag: ref.slice(colon + 1) };
  return { name: ref, tag: "latest" };
}

export async function pullWithProgress(client: ApiClient, ref: string, o: { platform?: string; out: Writable & { isTTY?: boolean } }): Promise<void> {
  const { name, tag } = splitTag(ref);
  const res = await client.request("POST", "/images/create", {
    query: { fromImage: name, tag, platform: o.platform },
    headers: { "X-Registry-Auth": authHeaderForRef(ref) },
  });
  const r = new ProgressRenderer(o.out);
  await readJsonLines(res.body!, (m) => r.handle(m));
}
