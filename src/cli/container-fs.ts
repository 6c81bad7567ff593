// cp, diff, export, commit and import: a container's files and the images made from them.
import type { Cli } from "./parser.ts";
import { existsSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync, createWriteStream, lchownSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { CliExit, list, type CliContext } from "./context.ts";
import { isStdio } from "./argv.ts";
import type { ApiClient } from "../client/client.ts";
import { ApiError } from "../client/errors.ts";
import { treeTar } from "../store/tar/tree-tar.ts";
import { extractLayer } from "../store/tar/extract.ts";
import { walk } from "../store/tar/tree-walk.ts";

interface PathStat {
  name: string;
  size: number;
  mode: number;
  linkTarget: string;
}

const GO_DIR = 2 ** 31;

/** `NAME:PATH` names a path in a container; anything else (or a leading `/` or `.`) is local. */
function splitCpArg(arg: string): { container?: string; path: string } {
  if (isStdio(arg)) return { path: "-" };
  if (arg.startsWith("/") || arg.startsWith(".")) return { path: arg };
  const i = arg.indexOf(":");
  if (i <= 0) return { path: arg };
  return { container: arg.slice(0, i), path: arg.slice(i + 1) || "/" };
}

async function statIn(client: ApiClient, container: string, path: string): Promise<PathStat | null> {
  const res = await client.request("HEAD", `/containers/${container}/archive`, { query: { path } }).catch((e) => {
    if (e instanceof ApiError && e.status === 404) return null;
    throw e;
  });
  const h = res?.headers.get("X-Docker-Container-Path-Stat");
  return h ? (JSON.parse(Buffer.from(h, "base64").toString()) as PathStat) : null;
}

async function writeStream(body: ReadableStream<Uint8Array>, out: NodeJS.WritableStream): Promise<void> {
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    if (!out.write(chunk)) await new Promise((r) => out.once("drain", r));
  }
}

/** docker cp without -a: what lands on the host belongs to the user running the command. */
function chownTree(path: string, uid: number, gid: number): void {
  lchownSync(path, uid, gid);
  if (statSync(path).isDirectory()) for (const item of walk(path)) lchownSync(item.path, uid, gid);
}

async function copyFromContainer(client: ApiClient, container: string, src: string, dest: string, archive: boolean): Promise<void> {
  const res = await client.request("GET", `/containers/${container}/archive`, { query: { path: src } });
  if (dest === "-") return writeStream(res.body!, process.stdout);
  const target = resolve(dest);
  const into = existsSync(target) && statSync(target).isDirectory();
  // Extract next to the destination, then move the one top entry into place.
  const parent = into ? target : dirname(target);
  if (!existsSync(parent)) throw new CliExit(1, `Error: no such directory: ${parent}`);
  const tmp = mkdtempSync(join(parent, ".ctr-cp-"));
  try {
    await extractLayer(res.body!, tmp, { whiteouts: "apply" });
    const [top] = readdirSync(tmp);
    if (!top) return;
    const final = into ? join(target, top) : target;
    if (existsSync(final) && statSync(final).isDirectory() && statSync(join(tmp, top)).isDirectory()) {
      for (const name of readdirSync(join(tmp, top))) {
        rmSync(join(final, name), { recursive: true, force: true });
        renameSync(join(tmp, top, name), join(final, name));
      }
    } else {
      rmSync(final, { recursive: true, force: true });
      renameSync(join(tmp, top), final);
    }
    if (!archive) chownTree(final, process.getuid?.() ?? 0, process.getgid?.() ?? 0);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

async function copyToContainer(client: ApiClient, src: string, container: string, dest: string, archive: boolean): Promise<void> {
  const put = (path: string, data: ReadableStream<Uint8Array>) =>
    client.request("PUT", `/containers/${container}/archive`, { query: { path }, raw: { data, contentType: "application/x-tar" } });
  if (src === "-") {
    await put(dest, Bun.file("/dev/stdin").stream());
    return;
  }
  const local = resolve(src);
  if (!existsSync(local)) throw new CliExit(1, `Error: lstat ${local}: no such file or directory`);
  const owner = archive ? undefined : { uid: 0, gid: 0 };
  const there = await statIn(client, container, dest);
  // An existing directory receives the source under its own name; otherwise the source becomes `dest`.
  if (there && (there.mode & GO_DIR) !== 0) {
    await put(dest, treeTar(local, basename(local), { owner }));
  } else {
    await put(dirname(dest.replace(/\/+$/, "")) || "/", treeTar(local, basename(dest.replace(/\/+$/, "")), { owner }));
  }
}

export function registerContainerFs(cli: Cli, ctx: CliContext): void {
  cli
    .command("cp <src> <dest>", "Copy files/folders between a container and the local filesystem (CONTAINER:PATH; - for a tar stream)")
    .option("-a, --archive", "Archive mode (copy all uid/gid information)")
    .option("-L, --follow-link", "Always follow symbol link in SRC_PATH")
    .action(async (srcArg: string, destArg: string, f: { archive?: boolean }) => {
      const src = splitCpArg(srcArg);
      const dest = splitCpArg(destArg);
      if (!!src.container === !!dest.container) throw new CliExit(1, "Error: copying between containers or between local paths is not supported; one of SRC and DEST must be CONTAINER:PATH");
      const client = await ctx.client();
      if (src.container) await copyFromContainer(client, src.container, src.path, dest.path, !!f.archive);
      else await copyToContainer(client, src.path, dest.container!, dest.path, !!f.archive);
    });

  cli.command("diff <container>", "Inspect changes to files or directories on a container's filesystem").action(async (id: string) => {
    const client = await ctx.client();
    const changes = (await client.json<{ Path: string; Kind: number } [] | null>("GET", `/containers/${id}/changes`)) ?? [];
    for (const c of changes) console.log(`${"CAD"[c.Kind] ?? "?"} ${c.Path}`);
  });

  cli
    .command("export <container>", "Export a container's filesystem as a tar archive")
    .option("-o, --output <file>", "Write to a file, instead of STDOUT")
    .action(async (id: string, f: { output?: string }) => {
      if (!f.output && process.stdout.isTTY) throw new CliExit(1, "Error: cowardly refusing to save to a terminal. Use the -o flag or redirect");
      const client = await ctx.client();
      const res = await client.request("GET", `/containers/${id}/export`);
      if (f.output) {
        const out = createWriteStream(f.output);
        await writeStream(res.body!, out);
        await new Promise<void>((r, j) => out.end((e?: Error | null) => (e ? j(e) : r())));
      } else await writeStream(res.body!, process.stdout);
    });

  cli
    .command("commit <container> [repository]", "Create a new image from a container's changes")
    .option("-a, --author <author>", "Author")
    .option("-m, --message <message>", "Commit message")
    .option("-c, --change <change>", "Apply Dockerfile instruction to the created image (repeatable)")
    .option("-p, --pause", "Pause container during commit", { default: true })
    .action(async (id: string, repository: string | undefined, f: { author?: string; message?: string; change?: unknown; pause?: boolean }) => {
      const client = await ctx.client();
      const { repo, tag } = splitRepoTag(repository);
      const changes = list(f.change);
      const res = await client.json<{ Id: string }>("POST", "/commit", {
        // `changes` repeats, one instruction each, as the docker CLI sends it.
        query: { container: id, repo, tag, author: f.author, comment: f.message, pause: f.pause === false ? 0 : 1, changes },
        body: {},
      });
      console.log(res.Id);
    });

  cli
    .command("import <file> [repository]", "Import the contents from a tarball (or - for STDIN) to create a filesystem image")
    .option("-m, --message <message>", "Set commit message for imported image")
    .option("-c, --change <change>", "Apply Dockerfile instruction to the created image (repeatable)")
    .action(async (file: string, repository: string | undefined, f: { message?: string; change?: unknown }) => {
      const client = await ctx.client();
      const { repo, tag } = splitRepoTag(repository);
      const changes = list(f.change);
      const data = isStdio(file) ? Bun.file("/dev/stdin").stream() : await openImport(file);
      const res = await client.request("POST", "/images/create", {
        query: { fromSrc: "-", repo, tag, message: f.message, changes },
        raw: { data, contentType: "application/x-tar" },
      });
      for (const line of (await res.text()).split("\n").filter(Boolean)) {
        const m = JSON.parse(line) as { status?: string; error?: string };
        if (m.error) throw new CliExit(1, `Error: ${m.error}`);
        if (m.status) console.log(m.status);
      }
    });
}

/** A tarball on disk, or a .zip converted to a tar stream (yauzl) on the way. */
async function openImport(file: string): Promise<ReadableStream<Uint8Array>> {
  if (!existsSync(file)) throw new CliExit(1, `Error: open ${file}: no such file or directory`);
  if (file.toLowerCase().endsWith(".zip")) {
    const { zipToTar } = await import("./zip-tar.ts");
    return zipToTar(file);
  }
  return Bun.file(file).stream();
}

function splitRepoTag(s: string | undefined): { repo?: string; tag?: string } {
  if (!s) return {};
  const slash = s.lastIndexOf("/");
  const colon = s.lastIndexOf(":");
  if (colon > slash) return { repo: s.slice(0, colon), tag: s.slice(colon + 1) };
  return { repo: s };
}
