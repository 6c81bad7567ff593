// Every step of a build is an image of the graph (as Docker's classic
// builder makes them): its parent is the previous step's image, its config
// the run config so far, one more history entry, and a layer when the step
// changed files. These images are the cache: a hit names one.
import type { ContentWriter } from "../../store/content-store.ts";
import type { ImageRecord, ImageStore } from "../../store/image-store.ts";
import type { ImageConfig } from "../distribution/manifest.ts";
import { goArch } from "../../arch.ts";
import type { IngestedLayer } from "../images/layer-ingest.ts";

/** The image config's `config` section as the builder keeps it. */
export interface RunConfig {
  Env: string[];
  Cmd: string[] | null;
  Entrypoint: string[] | null;
  User: string;
  WorkingDir: string;
  Labels: Record<string, string> | null;
  ExposedPorts: Record<string, object> | null;
  Volumes: Record<string, object> | null;
  StopSignal?: string;
  Healthcheck?: Record<string, unknown>;
  Shell?: string[];
  OnBuild: string[] | null;
  ArgsEscaped?: boolean;
}

export function runConfigOf(config: ImageConfig | null): RunConfig {
  const c = (config?.config ?? {}) as Partial<RunConfig>;
  return {
    Env: [...(c.Env ?? [])],
    Cmd: c.Cmd ?? null,
    Entrypoint: c.Entrypoint ?? null,
    User: c.User ?? "",
    WorkingDir: c.WorkingDir ?? "",
    Labels: c.Labels ? { ...c.Labels } : null,
    ExposedPorts: c.ExposedPorts ? { ...c.ExposedPorts } : null,
    Volumes: c.Volumes ? { ...c.Volumes } : null,
    ...(c.StopSignal ? { StopSignal: c.StopSignal } : {}),
    ...(c.Healthcheck ? { Healthcheck: c.Healthcheck } : {}),
    ...(c.Shell ? { Shell: c.Shell } : {}),
    OnBuild: c.OnBuild ?? null,
  };
}

export interface StepImage {
  record: ImageRecord | null;
  config: ImageConfig | null;
}

export interface CommitRequest {
  parent: StepImage;
  run: RunConfig;
  createdBy: string;
  layer: IngestedLayer | null;
  author?: string;
  /** The empty image a RUN needs on a scratch stage with no step yet: no history entry of its own. */
  noHistory?: boolean;
}

/** Records the image a step made and returns it. */
export function commitStep(d: { content: ContentWriter; images: ImageStore }, r: CommitRequest): StepImage {
  const created = new Date().toISOString();
  const base = r.parent.config;
  const author = r.author ?? base?.author;
  const config: ImageConfig = {
    architecture: base?.architecture ?? goArch(),
    ...(author ? { author } : {}),
    config: r.run as unknown as Record<string, unknown>,
    created,
    os: base?.os ?? "linux",
    ...(base?.variant ? { variant: base.variant } : {}),
    rootfs: { type: "layers", diff_ids: [...(base?.rootfs.diff_ids ?? []), ...(r.layer ? [r.layer.diffId] : [])] },
    history: [...(base?.history ?? []), ...(r.noHistory ? [] : [{ created, created_by: r.createdBy, ...(r.layer ? {} : { empty_layer: true }) }])],
  };
  const text = JSON.stringify(config);
  const id = d.content.writeBytes(new TextEncoder().encode(text));
  const chain = r.parent.record?.chainIds ?? [];
  const { image } = d.images.add({
    id,
    config: text,
    chainIds: r.layer ? [...chain, r.layer.layer.chainId] : chain,
    manifestDigest: null,
    parent: r.parent.record?.id ?? null,
    size: (r.parent.record?.size ?? 0) + (r.layer?.layer.size ?? 0),
    created: Math.floor(Date.parse(created) / 1000),
  });
  return { record: image, config };
}

export function stepImageOf(record: ImageRecord): StepImage {
  return { record, config: JSON.parse(record.config) as ImageConfig };
}
