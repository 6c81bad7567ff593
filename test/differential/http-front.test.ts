// The HTTP layer itself, dockerd vs ctr: the same raw bytes to both sockets,
// the answers' shape compared (status, reason, framing of errors, whether the
// connection closes). A difference not in intended-differences.ts fails.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { startDaemon, until, type TestDaemon } from "../helpers/daemon.ts";
import { dockerdSkipReason, startDockerd, type TestDockerd } from "../helpers/dockerd.ts";
import { differences } from "../helpers/normalise.ts";
import { answers, talk, type Answer } from "../helpers/raw-http.ts";
import { intended } from "./intended-differences.ts";

setDefaultTimeout(120_000);
const skip = dockerdSkipReason;
if (skip) console.warn(`skip: differential http front: ${skip}`);

const get = (path: string, extra = "") => `GET ${path} HTTP/1.1\r\nHost: x\r\n${extra}\r\n`;

interface Scenario {
  name: string;
  send: string;
  /** How many answers to read. */
  answers?: number;
  /** Indexes of answers to HEAD requests. */
  bodyless?: number[];
  /** The connection must close after the last answer (both are waited for). */
  closes?: boolean;
}

const scenarios: Scenario[] = [
  { name: "ping", send: get("/_ping") },
  { name: "head", send: `HEAD /_ping HTTP/1.1\r\nHost: x\r\n\r\n`, bodyless: [0] },
  { name: "pipelined", send: get("/_ping") + get("/nope") + get("/_ping", "Connection: close\r\n"), answers: 3, closes: true },
  { name: "http10", send: "GET /_ping HTTP/1.0\r\n\r\n", closes: true }, // no Host: HTTP/1.0 needs none
  { name: "folded", send: "GET /_ping HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n" },
  { name: "no-host", send: "GET /_ping HTTP/1.1\r\n\r\n", closes: true },
  { name: "two-hosts", send: "GET /_ping HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", closes: true },
  { name: "get-with-body", send: "GET /_ping HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc" + get("/_ping"), answers: 2 },
  { name: "absolute-form", send: "GET http://x/_ping HTTP/1.1\r\nHost: x\r\n\r\n" },
  { name: "options-star", send: "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n" + get("/_ping"), answers: 2 },
  { name: "bad-target", send: "GET foo HTTP/1.1\r\nHost: x\r\n\r\n", closes: true },
  { name: "bad-escape", send: "GET /%zz HTTP/1.1\r\nHost: x\r\n\r\n", closes: true },
  { name: "bad-request-line", send: "HELLO\r\n\r\n", closes: true },
  { name: "bad-method", send: "G(T /_ping HTTP/1.1\r\nHost: x\r\n\r\n", closes: true },
  { name: "no-colon", send: "GET /_ping HTTP/1.1\r\nHost: x\r\nnocolon\r\n\r\n", closes: true },
  { name: "invalid-header-name", send: "GET /_ping HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n", closes: true },
  { name: "invalid-header-value", send: "GET /_ping HTTP/1.1\r\nHost: x\r\nX: a\x01b\r\n\r\n", closes: true },
  { name: "http2", send: "GET /_ping HTTP/2.0\r\nHost: x\r\n\r\n", closes: true },
  { name: "bad-content-length", send: "POST /containers/prune HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n", closes: true },
  { name: "two-content-lengths", send: "POST /containers/prune HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}", closes: true },
  { name: "te-gzip", send: "POST /containers/prune HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", closes: true },
  {
    name: "bad-chunk",
    closes: true,
    send: "POST /containers/create HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
  },
  {
    name: "chunked-body",
    // A chunked body with an extension and a trailer, then a pipelined request: the framing was read right.
    send: "POST /containers/prune HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n2;ext=1\r\n{}\r\n0\r\nX-T: 1\r\n\r\n" + get("/_ping"),
    answers: 2,
  },
  { name: "head-under-limit", send: get("/_ping", `X-Big: ${"a".repeat(512 * 1024)}\r\n`) },
  { name: "head-over-limit", send: get("/_ping", `X-Big: ${"a".repeat(1100 * 1024)}\r\n`), closes: true },
];

/** What a client can tell apart: status, reason, type, body, and whether the connection closed. */
function shape(a: Answer, closed: boolean | undefined) {
  const type = a.headers["content-type"] ?? null;
  const text = a.body.toString();
  return {
    status: a.status,
    reason: a.reason,
    contentType: type,
    body: type === "application/json" ? JSON.parse(text) : text,
    close: a.headers.connection?.toLowerCase() === "close",
    closed,
  };
}

describe.skipIf(!!skip)("differential: the HTTP front, dockerd vs ctr", () => {
  let ctr: TestDaemon;
  let dkr: TestDockerd;
  beforeAll(async () => {
    [ctr, dkr] = await Promise.all([startDaemon(), startDockerd()]);
  });
  afterAll(async () => {
    await Promise.all([ctr?.[Symbol.asyncDispose](), dkr?.[Symbol.asyncDispose]()]);
  });

  async function ask(sock: string, s: Scenario) {
    const t = await talk(sock);
    t.write(s.send);
    const got = await answers(t, s.answers ?? 1, { bodyless: s.bodyless });
    // A connection that must close is waited for; one kept alive cannot be told from a slow close, so it is not.
    if (s.closes) await until(() => t.closed(), `${s.name}: the close`);
    t.destroy();
    return got.map((a, i) => shape(a, i === got.length - 1 && s.closes ? true : undefined));
  }

  for (const s of scenarios) {
    test(s.name, async () => {
      const [d, c] = await Promise.all([ask(dkr.sock, s), ask(ctr.sock, s)]);
      // Fields only one daemon has (dockerd's API version, ctr's server name) are not the HTTP layer's.
      const diff = differences(d, c).filter((p) => !intended(`http-front/${s.name}/${p}`));
      expect({ diff, dockerd: d, ctr: c }).toEqual({ diff: [], dockerd: d, ctr: c });
    });
  }
});
