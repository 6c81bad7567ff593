import type { Cli } from "./parser.ts";
import { createReadStream, createWriteStream } from "node:fs";
import { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { CliExit, list, type CliContext } from "./context.ts";
import { ago, formatBytes, table } from "./render.ts";
import { formatRows } from "./format.ts";
import { filterQuery } from "./container-info.ts";
import { forEachArg } from "./containers.ts";
import { authHeaderForRef } from "./login.ts";
import { ProgressRenderer, pullWithProgress, readJsonLines, splitTag } from "./pull-progress.ts";

interface ImageRow {
  Id: string;
  RepoTags: string[] | null;
  RepoDigests: string[] | null;
  Created: number;
  Size: number;
  Containers: number;
}

/** One `ctr images` row per tag, like docker; untagged images show `<none>`. */
function imageRows(imgs: ImageRow[], digests: boolean): Record<string, string>[] {
  const rows: Record<string, string>[] = [];
  for (const i of imgs) {
    const tags = i.RepoTags?.length ? i.RepoTags : [];
    const digest = (repo: string) => (i.RepoDigests ?? []).find((d) => d.startsWith(`${repo}@`))?.split("@")[1] ?? "<none>";
    const base = { ID: i.Id.replace(/^sha256:/, "").slice(0, 12), CreatedSince: ago(i.Created), CreatedAt: new Date(i.Created * 1000).toISOString(), Size: formatBytes(i.Size) };
    if (!tags.length) {
      const repo = i.RepoDigests?.[0]?.split("@")[0] ?? "<none>";
      rows.push({ Repository: repo, Tag: "<none>", Digest: digests ? digest(repo) : "", ...base });
    }
    for (const t of tags) {
      const { name, tag } = splitTag(t);
      rows.push({ Repository: name, Tag: tag, Digest: digests ? digest(name) : "", ...base });
    }
  }
  return rows;
}

export function registerImages(cli: Cli, ctx: CliContext): void {
  cli
    .command("pull <image>", "Download an image from a registry")
    .option("--platform <p>", "Set platform if server is multi-platform capable")
    .option("-q, --quiet", "Suppress verbose output")
    .action(async (image: string, f: { platform?: string; quiet?: boolean }) => {
      const client = await ctx.client();
      if (!/[:@]/.test(image.slice(image.lastIndexOf("/") + 1))) console.log("Using default tag: latest");
      await pullWithProgress(client, image, { platform: f.platform, out: f.quiet ? devNull() : process.stdout });
      console.log(qualify(image));
    });

  cli.command("push <image>", "Upload an image to a registry").action(async (image: string) => {
    const client = await ctx.client();
    const { name, tag } = splitTag(image);
    const res = await client.request("POST", `/images/${name}/push`, { query: { tag }, headers: { "X-Registry-Auth": authHeaderForRef(image) } });
    const r = new ProgressRenderer(process.stdout);
    await readJsonLines(res.body!, (m) => r.handle(m));
  });

  cli
    .command("images [repository]", "List images")
    .option("-a, --all", "Show all images")
    .option("-q, --quiet", "Only show image IDs")
    .option("--digests", "Show digests")
    .option("-f, --filter <kv>", "Filter output based on conditions provided (dangling=true, reference=…)")
    .option("--format <template>", "Format output using a Go-like template")
    .option("--no-trunc", "Don't truncate output")
    .option("--tree", "Show the image graph: layer chains, shared layers marked")
    .action(async (repo: string | undefined, f: { all?: boolean; quiet?: boolean; digests?: boolean; filter?: unknown; format?: string; tree?: boolean }) => {
      const client = await ctx.client();
      const filters = list(f.filter);
      if (repo) filters.push(`reference=${repo}`);
      if (f.tree) {
        const t = await client.json<TreeImage[]>("GET", "/images/tree", { query: { filters: filterQuery(filters) } });
        return console.log(renderTree(t));
      }
      const imgs = await client.json<ImageRow[]>("GET", "/images/json", { query: { all: f.all ? 1 : undefined, filters: filterQuery(filters), digests: f.digests ? 1 : undefined } });
      if (f.quiet) return console.log([...new Set(imgs.map((i) => i.Id.replace(/^sha256:/, "").slice(0, 12)))].join("\n"));
      const rows = imageRows(imgs, !!f.digests);
      if (f.format) return console.log(formatRows(f.format, rows, { ID: "IMAGE ID", CreatedSince: "CREATED" }));
      const header = ["REPOSITORY", "TAG", ...(f.digests ? ["DIGEST"] : []), "IMAGE ID", "CREATED", "SIZE"];
      console.log(table(header, rows.map((r) => [r.Repository!, r.Tag!, ...(f.digests ? [r.Digest!] : []), r.ID!, r.CreatedSince!, r.Size!])));
    });

  cli.command("tag <source> <target>", "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE").action(async (source: string, target: string) => {
    const client = await ctx.client();
    const { name, tag } = splitTag(target);
    await client.request("POST", `/images/${source}/tag`, { query: { repo: name, tag } });
  });

  cli
    .command("rmi [...images]", "Remove one or more images")
    .option("-f, --force", "Force removal of the image")
    .option("--no-prune", "Do not delete untagged parents")
    .action(async (images: string[], f: { force?: boolean; prune?: boolean }) => {
      const client = await ctx.client();
      await forEachArg(images, async (img) => {
        const r = await client.json<{ Untagged?: string; Deleted?: string }[]>("DELETE", `/images/${img}`, { query: { force: f.force ? 1 : undefined, noprune: f.prune === false ? 1 : undefined } });
        for (const e of r) console.log(e.Untagged ? `Untagged: ${e.Untagged}` : `Deleted: ${e.Deleted}`);
      });
    });

  cli
    .command("history <image>", "Show the history of an image")
    .option("-q, --quiet", "Only show image IDs")
    .action(async (image: string, f: { quiet?: boolean }) => {
      const client = await ctx.client();
      const h = await client.json<{ Id: string; Created: number; CreatedBy: string; Size: number; Comment: string }[]>("GET", `/images/${image}/history`);
      if (f.quiet) return console.log(h.map((x) => x.Id.replace(/^sha256:/, "").slice(0, 12)).join("\n"));
      console.log(
        table(
          ["IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT"],
          h.map((x) => [x.Id === "<missing>" ? "<missing>" : x.Id.replace(/^sha256:/, "").slice(0, 12), ago(x.Created), x.CreatedBy.length > 45 ? x.CreatedBy.slice(0, 44) + "…" : x.CreatedBy, formatBytes(x.Size), x.Comment]),
        ),
      );
    });

  cli
    .command("save [...images]", "Save one or more images to a tar archive (streamed to STDOUT by default)")
    .option("-o, --output <file>", "Write to a file, instead of STDOUT")
    .action(async (images: string[], f: { output?: string }) => {
      if (!images.length) throw new CliExit(1, "requires at least 1 argument");
      if (!f.output && process.stdout.isTTY) throw new CliExit(1, "cowardly refusing to save to a terminal. Use the -o flag or redirect");
      const client = await ctx.client();
      const q = new URLSearchParams();
      for (const i of images) q.append("names", i);
      const res = await client.request("GET", `/images/get?${q}`);
      await pipeline(Readable.fromWeb(res.body! as any), f.output ? createWriteStream(f.output) : process.stdout);
    });

  cli
    .command("load", "Load an image from a tar archive or STDIN")
    .option("-i, --input <file>", "Read from tar archive file, instead of STDIN")
    .option("-q, --quiet", "Suppress the load output")
    .action(async (f: { input?: string; quiet?: boolean }) => {
      const client = await ctx.client();
      const src = f.input ? createReadStream(f.input) : process.stdin;
      const res = await client.request("POST", "/images/load", { query: { quiet: f.quiet ? 1 : undefined }, raw: { data: Readable.toWeb(src) as any, contentType: "application/x-tar" } });
      const r = new ProgressRenderer(process.stdout);
      await readJsonLines(res.body!, (m) => r.handle(m));
    });

  cli
    .command("image-prune", "Remove unused images")
    .option("-a, --all", "Remove all unused images, not just dangling ones")
    .option("-f, --force", "Do not prompt for confirmation")
    .action(async (f: { all?: boolean }) => {
      const client = await ctx.client();
      const r = await client.json<{ ImagesDeleted: { Untagged?: string; Deleted?: string }[] | null; SpaceReclaimed: number }>("POST", "/images/prune", {
        query: { filters: JSON.stringify({ dangling: [f.all ? "false" : "true"] }) },
      });
      if (r.ImagesDeleted?.length) console.log(`Deleted Images:\n${r.ImagesDeleted.map((e) => (e.Untagged ? `untagged: ${e.Untagged}` : `deleted: ${e.Deleted}`)).join("\n")}\n`);
      console.log(`Total reclaimed space: ${formatBytes(r.SpaceReclaimed)}`);
    });
}

interface TreeImage {
  Id: string;
  RepoTags: string[];
  Layers: { ChainID: string; Size: number; SharedWith: number }[];
  UniqueSize: number;
  SharedSize: number;
}

function renderTree(imgs: TreeImage[]): string {
  const out: string[] = [];
  for (const i of imgs) {
    out.push(`${i.RepoTags[0] ?? "<none>"} ${i.Id.replace(/^sha256:/, "").slice(0, 12)}  unique ${formatBytes(i.UniqueSize)}, shared ${formatBytes(i.SharedSize)}`);
    i.Layers.forEach((l, n) => {
      const last = n === i.Layers.length - 1;
      out.push(`${last ? "└─" : "├─"} ${l.ChainID.replace(/^sha256:/, "").slice(0, 12)} ${formatBytes(l.Size)}${l.SharedWith > 1 ? `  (shared by ${l.SharedWith} images)` : ""}`);
    });
  }
  return out.join("\n");
}

function qualify(ref: string): string {
  const { name, tag } = splitTag(ref);
  const full = name.includes("/") && /[.:]|^localhost/.test(name.split("/")[0]!) ? name : `docker.io/${name.includes("/") ? name : `library/${name}`}`;
  return ref.includes("@") ? `${full}@${tag}` : `${full}:${tag}`;
}

function devNull(): Writable {
  return new Writable({ write: (_c, _e, cb) => cb() });
}
