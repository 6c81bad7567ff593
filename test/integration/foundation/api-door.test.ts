// The API's door: the unix socket is 0660 root:<group> (-G, numeric or a
// name; a missing named group stops the daemon), and over tcp:// TLS the
// daemon warns loudly without --tlsverify and, with it, refuses clients
// without a certificate from the CA.
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CLI, isRoot, run, startDaemon, until } from "../../helpers/daemon.ts";
import { freePort } from "../../helpers/registry.ts";
import { lookupGroup, socketGid } from "../../../src/server/socket-group.ts";

setDefaultTimeout(60_000);
const haveOpenssl = Bun.which("openssl") !== null;
if (!isRoot) console.warn("skip: API door: needs root");

describe("socket group lookup", () => {
  test("names from the group file, numbers as given; a missing default group leaves the socket root's", () => {
    const dir = mkdtempSync(join(tmpdir(), "ctr-group-"));
    try {
      const f = join(dir, "group");
      writeFileSync(f, "root:x:0:\nctr:x:990:alice\nstaff:x:50:\n");
      expect([lookupGroup("ctr", f), lookupGroup("staff", f), lookupGroup("77", f), lookupGroup("nope", f)]).toEqual([990, 50, 77, null]);
      expect(socketGid(undefined, f)).toBe(990);
      writeFileSync(f, "root:x:0:\n");
      expect(socketGid(undefined, f)).toBeNull();
      expect(() => socketGid("nope", f)).toThrow('group "nope" not found');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.skipIf(!isRoot)("the API's door (root)", () => {
  test("-G puts the socket in that group, mode 0660", async () => {
    await using d = await startDaemon(["-G", "4242"]);
    const st = statSync(d.sock);
    expect([st.gid, st.mode & 0o777]).toEqual([4242, 0o660]);
  });

  test("a named group that does not exist stops the daemon with a clear message", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ctr-door-"));
    try {
      const r = await run([process.execPath, CLI, "daemon", "-H", `unix://${join(dir, "s.sock")}`, "--root", join(dir, "root"), "--exec-root", join(dir, "run"), "-G", "no-such-group-ctr"]);
      expect(r.code).not.toBe(0);
      expect(r.stderr + r.stdout).toContain('group "no-such-group-ctr" not found');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe.skipIf(!haveOpenssl)("tcp:// with TLS", () => {
    const certs = () => {
      const dir = mkdtempSync(join(tmpdir(), "ctr-tls-"));
      const sh = (cmd: string) => {
        const r = Bun.spawnSync(["sh", "-c", cmd], { cwd: dir });
        if (r.exitCode !== 0) throw new Error(`${cmd}: ${r.stderr.toString()}`);
      };
      const key = (n: string) => `openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ${n}.key -out ${n}.csr -subj /CN=${n} 2>/dev/null`;
      sh("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key -out ca.pem -days 1 -subj /CN=test-ca 2>/dev/null");
      sh(`${key("server")} && printf 'subjectAltName=IP:127.0.0.1\\nextendedKeyUsage=serverAuth\\n' > s.ext && openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 1 -extfile s.ext 2>/dev/null`);
      sh(`${key("client")} && printf 'extendedKeyUsage=clientAuth\\n' > c.ext && openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out client.pem -days 1 -extfile c.ext 2>/dev/null`);
      return { dir, f: (n: string) => join(dir, n) };
    };

    test("--tlsverify: a client without a certificate is refused, one with the CA's gets through", async () => {
      const c = certs();
      try {
        const port = await freePort();
        await using d = await startDaemon(["-H", `tcp://127.0.0.1:${port}`, "--tlscert", c.f("server.pem"), "--tlskey", c.f("server.key"), "--tlscacert", c.f("ca.pem"), "--tlsverify"]);
        const url = `https://127.0.0.1:${port}/_ping`;
        await until(async () => (await run(["curl", "-s", "--cacert", c.f("ca.pem"), "--cert", c.f("client.pem"), "--key", c.f("client.key"), url])).stdout === "OK", "the TLS port to answer");
        const anon = await run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", c.f("ca.pem"), url]);
        expect(anon.stdout).not.toBe("200");
        expect(d.log()).not.toContain("without --tlsverify is insecure");
      } finally {
        rmSync(c.dir, { recursive: true, force: true });
      }
    });

    test("without --tlsverify the daemon warns loudly, as dockerd", async () => {
      const c = certs();
      try {
        const port = await freePort();
        await using d = await startDaemon(["-H", `tcp://127.0.0.1:${port}`, "--tlscert", c.f("server.pem"), "--tlskey", c.f("server.key")]);
        await until(() => d.log().includes("without --tlsverify is insecure"), "the warning");
        expect(d.log()).toContain("DON'T BIND ON ANY IP ADDRESS WITHOUT setting --tlsverify");
      } finally {
        rmSync(c.dir, { recursive: true, force: true });
      }
    });
  });
});
