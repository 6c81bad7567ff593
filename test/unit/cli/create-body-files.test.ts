// Files the run/create flags read on the client (loaded lazily, cli/read-text.ts):
// --env-file lines (comments and blanks skipped, a bare NAME from our environment).
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createBody, type CreateFlags } from "../../../src/cli/create-options.ts";

const dir = mkdtempSync(join(tmpdir(), "ctr-envfile-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const attach = { stdin: false, stdout: true, stderr: true };

describe("create body from flags", () => {
  test("--env-file before -e, as the docker CLI orders them", () => {
    const f = join(dir, "env");
    writeFileSync(f, "# a comment\nA=1\n\n  B=two words  \nCTR_TEST_FROM_ENV\n");
    process.env.CTR_TEST_FROM_ENV = "here";
    try {
      const body = createBody("busybox", ["true"], { envFile: f, env: ["C=3"] } as CreateFlags, attach, false);
      expect(body.Env).toEqual(["A=1", "B=two words", "CTR_TEST_FROM_ENV=here", "C=3"]);
    } finally {
      delete process.env.CTR_TEST_FROM_ENV;
    }
  });

  test("a missing --env-file is an error naming it", () => {
    expect(() => createBody("busybox", ["true"], { envFile: join(dir, "nope") } as CreateFlags, attach, false)).toThrow("nope");
  });
});
